"""Free text (notes, vignettes, a typed chief complaint) -> findings with character spans.

Three passes, in order of trust: the lexicon (KB labels and synonyms, longest match), values
written in the text ("BP 85/50", "temp 38.9") judged by the KB's thresholds, and — for short
clauses the first two left unexplained — a MiniLM semantic match. Negation, uncertainty and
other-person context come from findings/context.py. Long texts are read in chunks so memory
and time stay bounded; the semantic pass is limited to a fixed number of clauses per text.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections import Counter
from dataclasses import dataclass, field

from osler.findings import context
from osler.findings import semantic as sem
from osler.findings.lexicon import coordinated, finding_lexicon
from osler.findings.measure import MeasurementIndex, values_in_text
from osler.findings.model import Finding, Provenance
from osler.findings.tokens import SENTENCE_BREAKS, Token, tokenize, wordset
from osler.knowledge import KnowledgeBase

log = logging.getLogger(__name__)

CHUNK_CHARS = 50_000  # texts are read in pieces of about this size, cut at a line or sentence
MAX_MENTIONS = 25  # mentions kept per (finding, present) in one text; the rest add nothing new
MAX_FINDINGS = 2_000  # per text, whatever its length
MAX_CHARS = 20_000_000  # longer texts are read up to here, with a warning
DEFAULT_MAX_CLAUSES = 24  # semantic fallback budget per text: typed complaints, vignettes
LONG_TEXT = 20_000  # longer texts (full notes) get a smaller semantic budget ...
LONG_TEXT_CLAUSES = 8  # ... so that a 100 kB note stays under 200 ms (bench/findings_bench.py)
_LEAD_WORDS = wordset("no not deny without never possible possibly probable likely suspect "
                       "suspected query maybe may might could he she they patient pt also "
                       "has have had is are was were reports reported complains states "
                       "feels feel")


@dataclass
class FindingExtractor:
    """Extract KB findings from text. `semantic=False` gives the fast lexicon-only reader."""

    kb: KnowledgeBase
    semantic: bool = True
    threshold: float = sem.DEFAULT_THRESHOLD
    margin: float = sem.DEFAULT_MARGIN
    negated_semantic: bool = False  # semantic matches of negated clauses ('no weight changes')
    max_clauses: int = DEFAULT_MAX_CLAUSES
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lexicon = finding_lexicon(self.kb)
        self._measures = MeasurementIndex.of(self.kb)
        self._index: sem.SemanticIndex | None = None
        self._semantic_failed = False

    # --- public ------------------------------------------------------------------------
    def from_text(self, text: str | None, *, event_id: str | None = None,
                  time: str | None = None, sex: str | None = None) -> list[Finding]:
        """Findings in `text`, ordered by position; spans are offsets into `text`."""
        if not text or not isinstance(text, str) or not text.strip():
            return []
        found: list[Finding] = []
        seen: Counter[tuple[str, bool]] = Counter()
        clauses = self.max_clauses if len(text) <= LONG_TEXT else min(self.max_clauses,
                                                                        LONG_TEXT_CLAUSES)
        budget = [clauses if self.semantic else 0]
        if len(text) > MAX_CHARS:
            self.warnings.append(f"text of {len(text):,} characters: only the first "
                                 f"{MAX_CHARS:,} were read")
        for start, end in _chunks(text[:MAX_CHARS]):
            # Mentions past MAX_MENTIONS per finding add nothing new and are not even built,
            # so time and memory stay flat on long, repetitive notes.
            found.extend(self._chunk(text, start, end, event_id, time, sex, budget, seen))
            if len(found) >= MAX_FINDINGS:
                break
        found.sort(key=lambda f: (f.source.span or (0, 0), f.id))
        return found[:MAX_FINDINGS]

    @property
    def semantic_ready(self) -> bool:
        """True once the semantic model is loaded (or would load) for this extractor."""
        return self.semantic and self._semantic_index() is not None

    # --- passes --------------------------------------------------------------------------
    def _chunk(self, text: str, start: int, end: int, event_id: str | None, time: str | None,
               sex: str | None, budget: list[int], seen: Counter[tuple[str, bool]]
               ) -> list[Finding]:
        piece = text[start:end]
        tokens = tokenize(piece)
        out: list[Finding] = []
        covered: set[int] = set()
        matches = []
        headings = _heading_tokens(piece, tokens)  # '# Allergies' names a section, not a finding
        covered |= headings
        scanned = [m for m in self._lexicon.scan(tokens) if m.first not in headings]
        extra, replaced = coordinated(tokens, scanned, self._lexicon)
        scanned = [m for m in scanned if not (m.first == m.last and m.first in replaced)]
        for m in scanned + extra:
            covered.update(range(m.first, m.last + 1))  # blocked phrases too: not semantic
            if any(t.finding for t in m.payloads):
                matches.append(m)
        statuses = context.assess(piece, tokens, [(m.first, m.last) for m in matches])
        for m, st in zip(matches, statuses, strict=True):
            s, e = tokens[m.first].start, tokens[m.last].end
            for target in m.payloads:
                if target.finding is None:
                    continue
                if st.other_person and not _about_others(target.finding):
                    continue
                # A phrase that itself means 'absent' ('afebrile', 'normal power') stays
                # absent inside a negated list ('No LOC, normal power and tone').
                present = target.present and not st.negated
                if _admit(seen, target.finding, present):
                    out.append(self._finding(target.finding, present, not st.uncertain, 1.0,
                                             text, start + s, start + e, event_id, time))
        out.extend(self._values(text, piece, start, tokens, covered, event_id, time, sex, seen))
        if budget[0] > 0:
            out.extend(self._semantic(text, piece, start, tokens, covered, event_id, time,
                                      budget, seen))
        return out

    def _values(self, text: str, piece: str, offset: int, tokens: list[Token],
                covered: set[int], event_id: str | None, time: str | None, sex: str | None,
                seen: Counter[tuple[str, bool]]) -> list[Finding]:
        out = []
        starts = [t.start for t in tokens]
        for tv in values_in_text(piece):
            if self._saturated(tv.loinc, seen):
                continue
            for verdict in self._measures.judge(tv.loinc, tv.value, tv.unit, sex):
                if not _admit(seen, verdict.finding.id, verdict.present):
                    continue
                f = self._finding(verdict.finding.id, verdict.present, True, 1.0, text,
                                  offset + tv.start, offset + tv.end, event_id, time)
                out.append(_with_value(f, tv.value, tv.unit))
            lo = max(bisect.bisect_right(starts, tv.start) - 1, 0)
            hi = bisect.bisect_left(starts, tv.end)
            covered.update(range(lo, hi))
        return out

    def _saturated(self, loinc: str, seen: Counter[tuple[str, bool]]) -> bool:
        """True when every finding this code decides already has all its mentions."""
        return all(seen[(f.id, p)] >= MAX_MENTIONS
                   for f in self._measures.by_loinc.get(loinc, ()) for p in (True, False))

    def _semantic(self, text: str, piece: str, offset: int, tokens: list[Token],
                  covered: set[int], event_id: str | None, time: str | None,
                  budget: list[int], seen: Counter[tuple[str, bool]]) -> list[Finding]:
        index = self._semantic_index()
        if index is None:
            return []
        cands = []
        for cl in sem.clauses(tokens, covered):
            first = cl.first
            while first <= cl.last and (not tokens[first].word
                                        or tokens[first].norm in _LEAD_WORDS
                                        or tokens[first].text.lower() in _LEAD_WORDS):
                first += 1
            content = [t for t in tokens[first:cl.last + 1] if t.word]
            if not content or sum(len(t.text) for t in content) < 4:
                continue
            cands.append((cl, first))
            if len(cands) >= budget[0]:
                break
        if not cands:
            return []
        budget[0] -= len(cands)
        queries = [piece[tokens[first].start:cl.end] for cl, first in cands]
        best = index.best(queries)
        # Context within the clause only, so leading triggers ("no", "possible") count.
        statuses = [context.assess(piece, tokens[cl.first:cl.last + 1],
                                   [(first - cl.first, cl.last - cl.first)])[0]
                    for cl, first in cands]
        out = []
        for (cl, first), (fid, score, lead), st in zip(cands, best, statuses, strict=True):
            if score < self.threshold or lead < self.margin:
                continue
            if st.negated and not self.negated_semantic:
                continue
            if st.other_person and not _about_others(fid):
                continue
            if not _admit(seen, fid, not st.negated):
                continue
            s, e = tokens[first].start, cl.end
            out.append(self._finding(fid, not st.negated, not st.uncertain, score, text,
                                     offset + s, offset + e, event_id, time))
        return out

    def _semantic_index(self) -> sem.SemanticIndex | None:
        if not self.semantic or self._semantic_failed:
            return None
        if self._index is None:
            try:
                self._index = sem.SemanticIndex.of(self.kb)
            except sem.ModelUnavailable as exc:
                self._semantic_failed = True
                self.warnings.append(f"semantic matching off: {exc}")
                log.warning("semantic matching off: %s", exc)
                return None
        return self._index

    def _finding(self, fid: str, present: bool, certain: bool, score: float, text: str,
                 start: int, end: int, event_id: str | None, time: str | None) -> Finding:
        fdef = self.kb.finding(fid)
        return Finding(
            id=fdef.id,
            label=fdef.label,
            present=present,
            source=Provenance(event_id=event_id, span=(start, end), snippet=text[start:end]),
            certain=certain,
            score=score,
            time=time,
        )


_HEADING = re.compile(r"(?m)^[ \t]*#+[^\n]*")


def _heading_tokens(piece: str, tokens: list[Token]) -> set[int]:
    """Indexes of tokens on Markdown heading lines ('# Allergies', '## Plan')."""
    if "#" not in piece:
        return set()
    starts = [t.start for t in tokens]
    out: set[int] = set()
    for m in _HEADING.finditer(piece):
        lo = bisect.bisect_left(starts, m.start())
        hi = bisect.bisect_left(starts, m.end())
        out.update(range(lo, hi))
    return out


def _admit(seen: Counter[tuple[str, bool]], fid: str, present: bool) -> bool:
    """Count a mention; False once this finding has MAX_MENTIONS of this polarity."""
    key = (fid, present)
    seen[key] += 1
    return seen[key] <= MAX_MENTIONS


def _about_others(fid: str) -> bool:
    return fid in context.OTHER_PERSON_EXEMPT or fid.startswith(
        context.OTHER_PERSON_EXEMPT_PREFIXES)


def _with_value(f: Finding, value: float, unit: str | None) -> Finding:
    from dataclasses import replace

    return replace(f, value=value, unit=unit)


def _chunks(text: str) -> list[tuple[int, int]]:
    """[start, end) pieces of about CHUNK_CHARS, cut after a newline or sentence end."""
    if len(text) <= CHUNK_CHARS:
        return [(0, len(text))]
    out = []
    start = 0
    n = len(text)
    while start < n:
        end = min(start + CHUNK_CHARS, n)
        if end < n:
            cut = text.rfind("\n", start + CHUNK_CHARS // 2, end)
            if cut < 0:
                cut = max(text.rfind(c, start + CHUNK_CHARS // 2, end) for c in SENTENCE_BREAKS)
            if cut < 0:
                cut = text.rfind(" ", start + CHUNK_CHARS // 2, end)
            end = cut + 1 if cut >= 0 else end
        out.append((start, end))
        start = end
    return out

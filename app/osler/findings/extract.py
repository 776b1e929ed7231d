"""Free text (notes, vignettes, a typed chief complaint) -> findings with character spans.

Three passes, in order of trust: the lexicon (KB labels and synonyms, longest match), values
written in the text ("BP 85/50", "temp 38.9") judged by the KB's thresholds, and — for short
clauses the first two left unexplained — a MiniLM semantic match. Negation, uncertainty and
other-person context come from findings/context.py. Long texts are read in chunks so memory
and time stay bounded; the semantic pass is limited to a fixed number of clauses per text.
"""

from __future__ import annotations

import logging
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
DEFAULT_MAX_CLAUSES = 24  # semantic fallback budget per text (keeps 100 kB notes < 200 ms)
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
        budget = [self.max_clauses if self.semantic else 0]
        for start, end in _chunks(text):
            found.extend(self._chunk(text, start, end, event_id, time, sex, budget))
            if len(found) >= MAX_FINDINGS * 2:
                break
        return _bounded(sorted(found, key=lambda f: (f.source.span or (0, 0), f.id)))

    @property
    def semantic_ready(self) -> bool:
        """True once the semantic model is loaded (or would load) for this extractor."""
        return self.semantic and self._semantic_index() is not None

    # --- passes --------------------------------------------------------------------------
    def _chunk(self, text: str, start: int, end: int, event_id: str | None, time: str | None,
               sex: str | None, budget: list[int]) -> list[Finding]:
        piece = text[start:end]
        tokens = tokenize(piece)
        out: list[Finding] = []
        covered: set[int] = set()
        matches = []
        scanned = self._lexicon.scan(tokens)
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
                out.append(self._finding(target.finding, present, not st.uncertain, 1.0,
                                         text, start + s, start + e, event_id, time))
        out.extend(self._values(text, piece, start, tokens, covered, event_id, time, sex))
        if budget[0] > 0:
            out.extend(self._semantic(text, piece, start, tokens, covered, event_id, time,
                                      budget))
        return out

    def _values(self, text: str, piece: str, offset: int, tokens: list[Token],
                covered: set[int], event_id: str | None, time: str | None, sex: str | None
                ) -> list[Finding]:
        out = []
        for tv in values_in_text(piece):
            for verdict in self._measures.judge(tv.loinc, tv.value, tv.unit, sex):
                f = self._finding(verdict.finding.id, verdict.present, True, 1.0, text,
                                  offset + tv.start, offset + tv.end, event_id, time)
                out.append(_with_value(f, tv.value, tv.unit))
            covered.update(i for i, t in enumerate(tokens)
                           if t.start < tv.end and tv.start < t.end)
        return out

    def _semantic(self, text: str, piece: str, offset: int, tokens: list[Token],
                  covered: set[int], event_id: str | None, time: str | None,
                  budget: list[int]) -> list[Finding]:
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
        spans = [(first, cl.last) for cl, first in cands]
        # Context over the whole clause so leading triggers ("no", "possible") count.
        statuses = context.assess(piece, tokens, [(cl.first, cl.last) for cl, _ in cands])
        out = []
        for (cl, first), (fid, score, lead), st, _span in zip(cands, best, statuses, spans,
                                                                strict=True):
            if score < self.threshold or lead < self.margin:
                continue
            if st.negated and not self.negated_semantic:
                continue
            if st.other_person and not _about_others(fid):
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


def _bounded(found: list[Finding]) -> list[Finding]:
    seen: Counter[tuple[str, bool]] = Counter()
    out = []
    for f in found:
        key = (f.id, f.present)
        seen[key] += 1
        if seen[key] <= MAX_MENTIONS:
            out.append(f)
        if len(out) >= MAX_FINDINGS:
            break
    return out

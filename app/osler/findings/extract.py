"""Free text (notes, vignettes, a typed chief complaint) -> findings with character spans.

Three passes, in order of trust: the lexicon (KB labels and synonyms, longest match; with
examination adjectives said of a body part, "abdomen soft, non-tender", and normal statements
about a system, "abdomen unremarkable"), values written in the text ("BP 85/50", "temp 38.9")
judged by the KB's thresholds for the patient's age and sex, and — for short clauses the
first two left unexplained — a MiniLM semantic match. Negation, uncertainty, other people,
time and aggravating factors come from findings/context.py; what they do to a finding
depends on the KB's qualifiers for it. A finding that cannot describe this patient
(a man's "vaginal bleeding", an adult's "irritable infant") is set aside with a warning.
Long texts are read in chunks so memory and time stay bounded; the semantic pass is limited
to a fixed number of clauses per text.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections import Counter
from dataclasses import dataclass, field

from osler.findings import context
from osler.findings import semantic as sem
from osler.findings.direction import clause_contradicts, contradicted
from osler.findings.episode import is_background
from osler.findings.lexicon import PhraseMatch, Target, coordinated, finding_lexicon
from osler.findings.measure import MeasurementIndex, values_in_text
from osler.findings.model import BACKGROUND, CURRENT, Finding, Provenance
from osler.findings.normal import NormalIndex
from osler.findings.population import Age, SetAside, mismatch
from osler.findings.predicates import predicate_matches
from osler.findings.tokens import SENTENCE_BREAKS, Token, normalize, tokenize, wordset
from osler.knowledge import FindingDef, KnowledgeBase

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
# Finding kinds that describe the patient now: a mention placed in the past is not one.
NOW_CATEGORIES = frozenset({"symptom", "sign", "vital", "lab"})
# Words that keep a state current next to its past form ("still smokes", "currently").
_CURRENT = wordset("current currently still now active actively daily continues continuing "
                   "ongoing presently")
MAX_NOTES = 200  # set-aside notes kept per extractor (the same note is kept once)


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
    set_aside: list[SetAside] = field(default_factory=list)  # mentions not used, and why

    def __post_init__(self) -> None:
        self._lexicon = finding_lexicon(self.kb)
        self._measures = MeasurementIndex.of(self.kb)
        self._normal = NormalIndex.of(self.kb)
        self._index: sem.SemanticIndex | None = None
        self._semantic_failed = False
        self._noted: set[str] = set()
        self._pending: list[SetAside] = []
        self._restricted = frozenset(f.id for f in self.kb.findings
                                     if f.sex or f.min_age is not None or f.max_age is not None)

    # --- public ------------------------------------------------------------------------
    def from_text(self, text: str | None, *, event_id: str | None = None,
                  time: str | None = None, sex: str | None = None,
                  age: Age | None = None) -> list[Finding]:
        """Findings in `text`, ordered by position; spans are offsets into `text`.

        `sex` ('female'/'male') and `age` (years: an int is completed years, a float exact)
        choose the thresholds for values in the text and set aside findings that cannot
        describe the patient (noted in `warnings` and `set_aside`)."""
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
        who = (sex, age)
        for start, end in _chunks(text[:MAX_CHARS]):
            # Mentions past MAX_MENTIONS per finding add nothing new and are not even built,
            # so time and memory stay flat on long, repetitive notes.
            found.extend(self._chunk(text, start, end, event_id, time, who, budget, seen))
            if len(found) >= MAX_FINDINGS:
                break
        found = self._past_forms(text, found)
        found.sort(key=lambda f: (f.source.span or (0, 0), f.id))
        return found[:MAX_FINDINGS]

    def usable_for(self, f: Finding, sex: str | None, age: Age | None) -> bool:
        """False when finding `f` cannot describe a patient of this sex and age, with a note
        for a present one ('No urethral discharge' in a woman's note says nothing and goes
        quietly); findings_from_record applies it to coded findings too."""
        if f.id not in self._restricted or (sex is None and age is None):
            return True
        reason = mismatch(self.kb.finding(f.id), sex, age)
        if reason is None:
            return True
        if f.present:
            self._note(SetAside(f.id, f.label, reason, f.source.cite()))
        return False

    @property
    def semantic_ready(self) -> bool:
        """True once the semantic model is loaded (or would load) for this extractor."""
        return self.semantic and self._semantic_index() is not None

    # --- passes --------------------------------------------------------------------------
    def _chunk(self, text: str, start: int, end: int, event_id: str | None, time: str | None,
               who: tuple[str | None, Age | None], budget: list[int],
               seen: Counter[tuple[str, bool]]) -> list[Finding]:
        piece = text[start:end]
        tokens = tokenize(piece)
        out: list[Finding] = []
        covered: set[int] = set()
        headings = _heading_tokens(piece, tokens)  # '# Allergies' names a section, not a finding
        covered |= headings
        scanned = [m for m in self._lexicon.scan(tokens) if m.first not in headings]
        extra, replaced = coordinated(tokens, scanned, self._lexicon)
        scanned = [m for m in scanned if not (m.first == m.last and m.first in replaced)]
        # (match, the tokens its context is judged at, the adjective negates itself)
        mentions: list[tuple[PhraseMatch[Target], tuple[int, int], bool]] = []
        for m in scanned + extra:
            covered.update(range(m.first, m.last + 1))  # blocked phrases too: not semantic
            if any(t.finding for t in m.payloads):
                mentions.append((m, (m.first, m.last), False))
        for pm in predicate_matches(piece, tokens, covered, self._lexicon):
            covered.update(range(pm.first, pm.last + 1))
            mentions.append((PhraseMatch(pm.first, pm.last, pm.payloads),
                             (pm.adjective, pm.adjective), pm.negated_word))
        sentence_of = context.sentence_ids(piece, tokens)
        statuses = context.assess(piece, tokens, [span for _m, span, _n in mentions],
                                  sentence_of)
        present_here: set[tuple[int, str]] = set()
        for (m, _span, negated_word), st in zip(mentions, statuses, strict=True):
            s, e = tokens[m.first].start, tokens[m.last].end
            head = self._head_findings(tokens, m) if st.negated else frozenset()
            plain = not (st.other_person or st.factor or st.past or st.history_of
                         or st.timeframe)
            for target in m.payloads:
                if target.finding is None:
                    continue
                fdef = self.kb.finding(target.finding)
                if plain and fdef.direction is None:
                    fid: str | None = fdef.id  # nothing qualifies it: the common case
                else:
                    fid = self._qualified(fdef, st, tokens, m)
                if fid is None:
                    continue
                # A phrase that itself means 'absent' ('afebrile', 'normal power') stays
                # absent inside a negated list ('No LOC, normal power and tone'); 'non-' before
                # 'bloody diarrhoea' denies the blood, not the diarrhoea.
                # A drug stopped does not end the condition it implies ("metformin stopped").
                ended = st.negated or (st.stopped and fdef.category != "history")
                negated = (ended and target.finding not in head) or negated_word
                present = target.present and not negated
                if fid in self._restricted and not self._fits(self._finding(
                        fid, present, True, 1.0, text, start + s, start + e, event_id, time),
                        who):
                    continue
                if present:
                    present_here.add((sentence_of[m.first], fid))
                if _admit(seen, fid, present):  # past the limit, not even built
                    out.append(self._finding(fid, present, not st.uncertain, 1.0, text,
                                             start + s, start + e, event_id, time))
        out.extend(self._normals(text, piece, start, tokens, covered, present_here, sentence_of,
                                 event_id, time, who, seen))
        out.extend(self._values(text, piece, start, tokens, covered, event_id, time, who, seen))
        if budget[0] > 0:
            out.extend(self._semantic(text, piece, start, tokens, covered, event_id, time,
                                      who, budget, seen))
        return out

    def _qualified(self, fdef: FindingDef, st: context.Status, tokens: list[Token],
                   m: PhraseMatch[Target]) -> str | None:
        """The finding id a mention stands for in its context, or None when it is not the
        patient's finding now: someone else's, an aggravating factor, in the past, or
        qualified the other way ('lighter periods')."""
        if st.other_person and not _about_others(fdef.id):
            return None
        now = fdef.category in NOW_CATEGORIES
        if st.factor and now and not fdef.circumstance:
            return None  # 'pain worse on coughing': coughing is when it hurts
        if contradicted(tokens, m.first, m.last, fdef.direction):
            return None
        past = st.past or ((st.history_of or st.timeframe) and fdef.current_only)
        if past and not st.negated:
            if fdef.past is not None:
                return fdef.past  # 'previously smoked' -> former smoker
            if fdef.current_only or fdef.recent or now:
                return None
        return fdef.id

    def _head_findings(self, tokens: list[Token], m: PhraseMatch[Target]) -> frozenset[str]:
        """Findings of a phrase's last words when 'non' negates only its first word
        ('non-bloody diarrhoea': diarrhoea stays)."""
        i = m.first - 1
        if i >= 0 and tokens[i].text in ("-", "–"):
            i -= 1
        if i < 0 or tokens[i].norm != "non":
            return frozenset()
        key = tuple(t.norm for t in tokens[m.first:m.last + 1] if t.word and t.norm)
        for cut in range(1, len(key)):
            found = {p.finding for p in self._lexicon.lookup(key[cut:]) if p.finding}
            if found:
                return frozenset(found)
        return frozenset()

    def _fits(self, f: Finding, who: tuple[str | None, Age | None]) -> bool:
        return self.usable_for(f, *who)

    def take_set_aside(self) -> list[SetAside]:
        """Mentions set aside since the last call (each once), for one request's warnings;
        `set_aside` and `warnings` keep every distinct one for the extractor's life."""
        out, self._pending = self._pending, []
        return out

    def _note(self, item: SetAside) -> None:
        message = item.message()
        if item not in self._pending and len(self._pending) < MAX_NOTES:
            self._pending.append(item)
        if message in self._noted or len(self._noted) >= MAX_NOTES:
            return
        self._noted.add(message)
        self.set_aside.append(item)
        self.warnings.append(message)

    def _normals(self, text: str, piece: str, offset: int, tokens: list[Token],
                 covered: set[int], present_here: set[tuple[int, str]], sentence_of: list[int],
                 event_id: str | None, time: str | None, who: tuple[str | None, Age | None],
                 seen: Counter[tuple[str, bool]]) -> list[Finding]:
        """Absent findings from 'abdomen unremarkable', 'CBC within normal limits'."""
        out = []
        for ns in self._normal.statements(piece, tokens, covered):
            s, e = tokens[ns.first].start, tokens[ns.last].end
            sid = sentence_of[ns.first]
            covered.update(range(ns.first, ns.last + 1))
            for fid in ns.system.absent:
                fdef = self.kb.finding(fid)
                if (sid, fdef.id) in present_here or self._saturated_id(fdef.id, seen):
                    continue
                f = self._finding(fdef.id, False, True, 1.0, text, offset + s, offset + e,
                                  event_id, time)
                if mismatch(fdef, *who) is None and _admit(seen, fdef.id, False):
                    out.append(f)
        return out

    def _saturated_id(self, fid: str, seen: Counter[tuple[str, bool]]) -> bool:
        return seen[(fid, False)] >= MAX_MENTIONS

    def _past_forms(self, text: str, found: list[Finding]) -> list[Finding]:
        """A text that names the past form of a state ('stopped smoking 10 years ago')
        overrides its tense-neutral mentions ('35-pack-year smoking history') unless they
        say it is current ('still smokes')."""
        pasts = {f.id for f in found if f.present and f.certain}
        states = {fd.id for fd in (self.kb.finding(x) for x in {f.id for f in found})
                  if fd.past in pasts}
        if not states:
            return found
        return [f for f in found if not (f.id in states and f.present
                                         and not _said_current(text, f))]

    def _values(self, text: str, piece: str, offset: int, tokens: list[Token],
                covered: set[int], event_id: str | None, time: str | None,
                who: tuple[str | None, Age | None], seen: Counter[tuple[str, bool]]
                ) -> list[Finding]:
        out = []
        starts = [t.start for t in tokens]
        sex, age = who
        verdicts: dict[tuple[str, float, str | None], list] = {}  # long notes repeat values
        for tv in values_in_text(piece):
            if self._saturated(tv.loinc, seen):
                continue
            key = (tv.loinc, tv.value, tv.unit)
            if key not in verdicts:
                verdicts[key] = self._measures.judge(tv.loinc, tv.value, tv.unit, sex, age)
            for verdict in verdicts[key]:
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
                  who: tuple[str | None, Age | None], budget: list[int],
                  seen: Counter[tuple[str, bool]]) -> list[Finding]:
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
            clause = tokens[cl.first:cl.last + 1]
            # A negation inside the clause ('abdomen non-tender') negates it too.
            negated = st.negated or context.negated_within(clause)
            if negated and not self.negated_semantic:
                continue
            fdef = self.kb.finding(fid)
            if clause_contradicts(clause, fdef.direction):
                continue  # 'lighter periods' embeds next to 'heavy periods'
            qualified = self._qualified(fdef, st, tokens, PhraseMatch(first, cl.last, ()))
            if qualified is None:
                continue
            s, e = tokens[first].start, cl.end
            f = self._finding(qualified, not negated, not st.uncertain, score, text,
                              offset + s, offset + e, event_id, time)
            if not self._fits(f, who) or not _admit(seen, qualified, not negated):
                continue
            out.append(f)
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
            role=BACKGROUND if is_background(fdef) else CURRENT,
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


def _said_current(text: str, f: Finding) -> bool:
    """True if the sentence of a mention says the state is current ('still smokes')."""
    s, e = f.source.span or (0, 0)
    lo = max(text.rfind(c, 0, s) for c in ".;\n") + 1
    hi = min((i for i in (text.find(c, e) for c in ".;\n") if i >= 0), default=len(text))
    words = {normalize(w) for w in re.findall(r"[A-Za-z]+", text[lo:hi])}
    return bool(words & {normalize(w) for w in _CURRENT})


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

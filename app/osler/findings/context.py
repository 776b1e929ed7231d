"""Negation, uncertainty and experiencer for phrase matches: a NegEx/ConText-style scope walk.

A pre-trigger ("denies", "no", "possible") governs the findings that follow it in the same
sentence while each is at most a few words from the last one it governed, so lists work
("denies fever, chills, or cough"); a terminator ("but", "reports") or a sentence break ends
the scope. Post-triggers ("... was ruled out", "... unlikely") look back a few words.
Pseudo-triggers ("no increase", "not relieved") are matched first so they trigger nothing.

Beyond negation and hedges (ConText's other properties): experiencer ("mother had…",
"… in her father"), time ("previous…", "… years ago", a bare "history of…", "during
pregnancy") and aggravating or relieving factors ("worse on walking and coughing": coughing
is when the pain comes, not a symptom the patient reports). What each property does to a
finding is decided by the extractor with the KB's qualifiers (findings/extract.py).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from enum import Enum

from osler.findings.lexicon import PhraseTrie
from osler.findings.tokens import SENTENCE_BREAKS, Token, normalize

DEFAULT_GAP = 5  # counted words allowed between a trigger and the first finding it governs
LIST_GAP = 2  # ... and between one governed finding and the next ("no fever, chills or cough")
POST_GAP = 3
SCOPE_ENDS = frozenset("()[]")
WHOLE_SENTENCE = 1_000_000  # gap of a heading-like trigger: its list runs to the sentence end
BRACKET = -1  # gap marking a bracket terminator, which does not end a heading-like list
NOT_COUNTED = frozenset({"and", "or", "nor", "also", "either", "other", "any", "all", "with"})


class Kind(Enum):
    NEG_PRE = "negation"
    NEG_POST = "negation-after"
    HEDGE_PRE = "uncertain"
    HEDGE_POST = "uncertain-after"
    UNLIKELY = "unlikely"  # absent and uncertain, either side
    PSEUDO = "pseudo"
    TERMINATE = "terminator"
    OTHER_PERSON = "experiencer"
    OTHER_POST = "experiencer-after"  # "breast cancer in her mother"
    PAST_PRE = "historical"  # "previous", "past medical history:", "as a child"
    PAST_POST = "historical-after"  # "... years ago", "... in the past"
    HISTORY_OF = "history-of"  # a bare "history of": past only for current-only findings
    TIMEFRAME = "timeframe"  # "during/after/before (her) pregnancy": a time, not a state
    PAST_END = "historical-end"  # "now", "until", "developed": ends time scopes only
    FACTOR = "factor"  # "worse on", "relieved by", "triggered by"
    FACTOR_END = "factor-end"  # "associated with": ends factor scopes only


PRE_KINDS = frozenset({Kind.NEG_PRE, Kind.HEDGE_PRE, Kind.UNLIKELY, Kind.OTHER_PERSON,
                       Kind.PAST_PRE, Kind.HISTORY_OF, Kind.TIMEFRAME, Kind.FACTOR})
POST_KINDS = frozenset({Kind.NEG_POST, Kind.HEDGE_POST, Kind.UNLIKELY, Kind.OTHER_POST,
                        Kind.PAST_POST})
TIME_KINDS = frozenset({Kind.PAST_PRE, Kind.HISTORY_OF, Kind.TIMEFRAME})
CURRENT_WORDS = frozenset({"this", "current", "present", "ongoing", "index"})
NEGATING = frozenset({Kind.NEG_PRE, Kind.NEG_POST, Kind.UNLIKELY})


@dataclass(frozen=True, slots=True)
class Trigger:
    kind: Kind
    gap: int = DEFAULT_GAP
    clause_start: bool = False  # counts only at the start of a clause ("; mother with …")


_NEG_PRE = """no|not|denies|denied|deny|denying|without|negative for|neg for|absence of|
free of|no evidence of|no sign of|no signs of|no history of|never|nor|neither|
ruled out|no complaints of|no c/o|not have|doesn't have|does not have|did not have|
didn't have|has not had|hasn't had|have not had|not experiencing|no known|unremarkable for|
resolution of|no longer|lack of|doesn't|does not|did not|didn't|isn't|wasn't|haven't|hasn't|
has not|have not|had no|reports no|with no|nil|not any|no further episodes of|cannot|can't|
unable to detect|free from|not complaining of|no reported|not reported|not associated with|
not accompanied by|no associated|no prior|no recent|no current|no new|no significant|
no obvious|no apparent|no clinical|no symptoms of|no features of|not febrile|
narrowly avoided|avoided being involved in|nearly had|almost had"""
_NEG_POST = """absent|denied|not present|is absent|are absent|was negative|were negative|
is negative|are negative|negative|ruled out|was ruled out|were ruled out|has resolved|
have resolved|resolved|not seen|not detected|not noted|not reported|not found|nil|gone|
none|none seen|none noted|none found|none reported|stopped|was stopped|were stopped|
has stopped|have stopped|discontinued|was discontinued|were discontinued|ceased|withdrawn"""
_PSEUDO = """with absent|with an absent|and absent|
no increase|not only|no further|not necessarily|gram negative|not certain|
not sure|no improvement|not improved|did not improve|
didn't improve|does not improve|doesn't improve|not relieved|no relief|not responding|
did not respond|failed to respond|not helped|no relieving|not resolved|did not resolve|
not controlled|not been controlled|no response|without relief|not tolerate|
did not tolerate|not able to|not completely|not fully|not related to food|
no idea|not sure if|not clear|without any relief|not getting better|no better|
cannot stop|can't stop|could not stop|couldn't stop|unable to stop|not stop|
history of present illness|history of presenting complaint|history of the present illness|
history of presenting illness|day history|days history|week history|weeks history|
month history|months history|year history|years history|hour history|hours history|
long history|longstanding history|long standing history|prolonged history|lifelong history|
prior to presentation|prior to admission|prior to arrival|previous day|previous night|
previous evening|previous week|previous days|for the past|over the past|within the past|
during the past|in the past few|in the past week|in the past month|in the past day|
in the past days|in the past weeks|in the past months|in the past year|in the past hour|
in the past hours|used to be|since then|not worse|no worse|for the last|over the last|
in the last|within the last|during the last|for the last year|over the last year|
in the last year|within the last year|since last year|day prior|days prior|week prior|
weeks prior|hour prior|hours prior|month prior|months prior|days previously|
weeks previously|day previously|week previously|the day before|the night before|
before bed|before meals|after meals|after eating|during the day|during the night|
after exercise|after exertion|during exercise|during exertion|on exertion|worse at night|
worse in the morning|worse in the evening"""
_HEDGE_PRE = """possible|possibly|probable|probably|likely|suspected|suspicion of|suspect|
suspicious for|query|questionable|may have|might have|could be|may be|maybe|might be|
cannot rule out|can't rule out|cannot exclude|can't exclude|rule out|r/o|concern for|
concerning for|worried about|question of|versus|vs|differential includes|presumed|
presumptive|suggestive of|borderline|equivocal|perhaps|thought to be|consider|considering|
?"""
_HEDGE_POST = """possible|suspected|likely|not excluded|cannot be excluded|cannot be ruled out|
not ruled out|queried|is possible|is likely|is suspected|was suspected|to be excluded|
to be ruled out|?"""
_UNLIKELY = """unlikely|less likely|improbable|doubtful"""
_TERMINATE = """but|however|although|though|except|apart from|aside from|yet|whereas|
which|who|presents with|presenting with|presented with|complains of|complaining of|
c/o|reports|reported|states|describes|has|now has|because|due to|secondary to|
instead|other than|aside|although|still|presents with a history of|
presenting with a history of|presented with a history of|complains of a history of|
reports a history of|gives a history of"""
_OTHER = """family history|family history of|fhx|fh|parents have|
family members have|family member has|family member with|maternal|paternal|grandmother|
grandfather|in her family|in his family|in the family|relatives with|relative with"""
_OTHER_POST = """runs in the family|run in the family|runs in families|in the family|
in family"""
# Relatives: "<relative> has/had/died of…" is about them; "in <relative>" looks back; but
# "<relative> has noticed/reports…" is the relative telling the patient's story.
RELATIVES = ("mother", "father", "mum", "mom", "dad", "brother", "sister", "sibling",
             "siblings", "parent", "parents", "son", "daughter", "aunt", "uncle", "cousin",
             "grandmother", "grandfather", "grandparent", "grandparents", "grandma", "grandpa",
             "niece", "nephew", "twin", "relative", "relatives", "husband", "wife", "partner",
             "spouse", "boyfriend", "girlfriend")
_RELATIVE_HAS = ("has", "had", "have", "has had", "died of", "died from", "passed away from",
                 "was diagnosed with", "is diagnosed with", "diagnosed with", "suffers from",
                 "suffered from", "has a history of", "had a history of", "developed")
_RELATIVE_TELLS = ("has noticed", "had noticed", "has witnessed", "had witnessed",
                   "has observed", "has seen", "had seen", "has reported", "has heard",
                   "has found", "has described", "has mentioned", "has said", "has told",
                   "has been worried", "has been concerned", "has been noticing",
                   "has become concerned", "has brought", "have noticed",
                   "have witnessed", "have observed", "have been worried", "have reported",
                   "has also noticed", "has also witnessed")
# Time. A bare "history of" often introduces the present complaint in presentations ("a
# history of cough for 3 months"), so it only moves current-only states (pregnancy, recent
# surgery) into the past; the markers below move any symptom there.
_PAST_PRE = """previous|previously|prior|past history of|past history|past medical history|
past medical history of|past medical hx|past hx|pmh|pmhx|pmh of|remote history of|
distant history of|used to|used to have|formerly|as a child|in childhood|as an infant|
prior history of|previous history of|previous episodes of|
previous episode of|prior episodes of|prior episode of|once had|years ago|
in the past"""
_PAST_POST = """in the past|years ago|year ago|decades ago|as a child|in childhood|
as an infant|last year|previously|in her youth|in his youth|when she was young|
when he was young|when younger|at age|at the age of"""
_HISTORY_OF = """history of|hx of|h/o|hx|a history of|known history of|with a history of|
history|medical history"""
_TIMEFRAME = """during|after|before|following|throughout|prior to"""
_PAST_END = """now|currently|presently|at present|today|tonight|
since|until|till|when|recently|started|starts|began|begins|developed|develops|new|again|
ongoing|still|current|presents|presenting|presented|then|yesterday"""
_FACTOR = """worse on|worse with|worse when|worse after|worse during|worse while|worse at|
worse by|worse in|worsened by|worsens with|worsens on|worsens when|worsens after|
made worse by|aggravated by|aggravated with|aggravated when|aggravated on|exacerbated by|
exacerbated with|exacerbated when|triggered by|precipitated by|provoked by|brought on by|
induced by|relieved by|relieved with|relieved on|eased by|eased with|improved by|
improves with|improved with|improves on|improves after|improved after|better with|
better on|better after|better when|alleviated by|alleviated with|helped by|
increases with|increased with|increases on|increased by|intensifies with|
intensified by|comes on with|occurs with|occurs on|occurs after|occurs during"""
_FACTOR_END = """associated with|accompanied by|along with|together with|with associated|
and also|also has|as well as"""

# Triggers that govern only the very next word ("non-smoker", not "non projectile vomiting"
# followed by a finding three words later), or a few.
_SHORT = {"non": 0, "without": 3, "nor": 3, "during": 1, "after": 1, "before": 1,
          "following": 1, "throughout": 1, "prior to": 1, "prior": 2,
          "previous": 2, "at age": 0, "at the age of": 0}
# "Stopped" and the like end only the finding right before them ("metformin stopped"); in
# "weight loss, underweight, periods stopped" the weight loss is still present.
_ADJACENT_ONLY = ("stopped", "was stopped", "were stopped", "has stopped", "have stopped",
                  "discontinued", "was discontinued", "were discontinued", "ceased",
                  "withdrawn")
ADJACENT = -2  # gap marking an adjacent-only post-trigger
_SHORT.update(dict.fromkeys(_ADJACENT_ONLY, ADJACENT))
# Findings that are about other people by nature and survive an experiencer trigger.
OTHER_PERSON_EXEMPT_PREFIXES = ("family-history-",)
OTHER_PERSON_EXEMPT = frozenset({"sick-contact"})


# Heading-like triggers govern a whole list, to the end of the sentence and across
# bracketed remarks: "Past medical history: asthma (2010), migraine, depression."
_WHOLE_SENTENCE = frozenset({
    "past medical history", "past medical history of", "past history", "past history of",
    "pmh", "pmhx", "pmh of", "past medical hx", "past hx", "history of", "hx of", "h/o", "hx",
    "a history of", "known history of", "with a history of", "history", "medical history",
    "family history", "family history of", "fh", "fhx", "remote history of",
    "distant history of", "prior history of", "previous history of"})


def _gap(phrase: str) -> int:
    return WHOLE_SENTENCE if phrase in _WHOLE_SENTENCE else _SHORT.get(phrase, DEFAULT_GAP)


def _words(block: str) -> list[str]:
    return [w.strip() for w in block.replace("\n", "").split("|") if w.strip()]


def trigger_trie() -> PhraseTrie[Trigger]:
    """All triggers in one trie; the longest phrase wins, so pseudo-triggers shadow triggers.
    A phrase may carry several kinds ("ruled out" before or after a finding)."""
    trie: PhraseTrie[Trigger] = PhraseTrie()
    for block, kind in ((_PSEUDO, Kind.PSEUDO), (_NEG_PRE, Kind.NEG_PRE),
                        (_NEG_POST, Kind.NEG_POST), (_HEDGE_PRE, Kind.HEDGE_PRE),
                        (_HEDGE_POST, Kind.HEDGE_POST), (_UNLIKELY, Kind.UNLIKELY),
                        (_TERMINATE, Kind.TERMINATE), (_OTHER, Kind.OTHER_PERSON),
                        (_OTHER_POST, Kind.OTHER_POST), (_PAST_PRE, Kind.PAST_PRE),
                        (_PAST_POST, Kind.PAST_POST), (_HISTORY_OF, Kind.HISTORY_OF),
                        (_TIMEFRAME, Kind.TIMEFRAME), (_PAST_END, Kind.PAST_END),
                        (_FACTOR, Kind.FACTOR), (_FACTOR_END, Kind.FACTOR_END)):
        for phrase in _words(block):
            if phrase == "?":
                continue
            trie.add(phrase, Trigger(kind, _gap(phrase)))
    for who in RELATIVES:
        for verb in _RELATIVE_HAS:
            trie.add(f"{who} {verb}", Trigger(Kind.OTHER_PERSON))
        for verb in _RELATIVE_TELLS:
            trie.add(f"{who} {verb}", Trigger(Kind.PSEUDO))
        # "mother with breast cancer" is hers; "brought in by his mother with fever" is not.
        trie.add(f"{who} with", Trigger(Kind.OTHER_PERSON, clause_start=True))
        trie.add(f"in {who}", Trigger(Kind.OTHER_POST))
        trie.add(f"in both {who}", Trigger(Kind.OTHER_POST))
    trie.add("non", Trigger(Kind.NEG_PRE, 0))
    _fold(trie.root)
    return trie


@dataclass(frozen=True, slots=True)
class _Folded:
    """All triggers of one phrase, folded once when the trie is built (scans are hot)."""

    kinds: tuple[Kind, ...]
    gap: int
    pseudo: bool
    other: bool
    clause_start: bool


def _fold(node: dict) -> None:
    for key, child in node.items():
        if key == "\x00":
            kinds = tuple(sorted({t.kind for t in child}, key=list(Kind).index))
            node[key] = [_Folded(kinds, min(t.gap for t in child), Kind.PSEUDO in kinds,
                                 Kind.OTHER_PERSON in kinds,
                                 any(t.clause_start for t in child))]
        else:
            _fold(child)


_TRIE = trigger_trie()


@dataclass(slots=True)
class Status:
    """The context of one finding mention."""

    negated: bool = False
    uncertain: bool = False
    other_person: bool = False
    past: bool = False  # placed in the past by an explicit marker ("previous", "years ago")
    history_of: bool = False  # after a bare "history of" (past only for current-only states)
    timeframe: bool = False  # names a time ("during pregnancy"), not the patient's state
    factor: bool = False  # an aggravating or relieving factor ("worse on coughing")
    stopped: bool = False  # "... stopped": over now, unless a chronic condition ("metformin")


@dataclass(slots=True)
class _Scope:
    kind: Kind
    anchor: int  # token index the gap is measured from
    gap: int  # allowed gap to the next finding: the trigger's, then LIST_GAP


def assess(text: str, tokens: list[Token], spans: list[tuple[int, int]],
           sentence: list[int] | None = None) -> list[Status]:
    """Status for each finding span (first and last token index), in the order given;
    `sentence` is `sentence_ids(text, tokens)` when the caller has it already."""
    statuses = [Status() for _ in spans]
    if not spans:
        return statuses
    covered = set()
    for first, last in spans:
        covered.update(range(first, last + 1))
    triggers = find_triggers(tokens, covered)
    counted = _counted_prefix(tokens, covered)
    if sentence is None:
        sentence = sentence_ids(text, tokens)

    # Forward pass: pre-triggers and their scopes.
    events = [(t[0], 0, n) for n, t in enumerate(triggers)] + \
             [(s[0], 1, n) for n, s in enumerate(spans)]
    events.sort()
    scopes: list[_Scope] = []
    current_sentence = -1
    for pos, is_finding, n in events:
        if sentence[pos] != current_sentence:
            scopes = []
            current_sentence = sentence[pos]
        if not is_finding:
            first, last, kind, gap = triggers[n]
            if kind is Kind.TERMINATE:
                scopes = [sc for sc in scopes if gap == BRACKET and sc.gap == WHOLE_SENTENCE]
            elif kind is Kind.PAST_END:
                scopes = [sc for sc in scopes if sc.kind not in TIME_KINDS]
            elif kind is Kind.FACTOR_END:
                scopes = [sc for sc in scopes if sc.kind is not Kind.FACTOR]
            elif kind in PRE_KINDS:
                scopes.append(_Scope(kind, last, gap))
            continue
        first, last = spans[n]
        alive = []
        for sc in scopes:
            if sc.kind is Kind.TIMEFRAME and any(
                    tokens[k].text.lower() in CURRENT_WORDS for k in range(sc.anchor + 1, first)):
                continue  # 'during this pregnancy' is now
            if counted[first] - counted[sc.anchor + 1] <= sc.gap:
                _apply(statuses[n], sc.kind)
                sc.anchor = last
                if sc.gap != WHOLE_SENTENCE:
                    sc.gap = min(sc.gap, LIST_GAP)
                alive.append(sc)
        scopes = alive

    # Backward pass: post-triggers a few words after the finding, same sentence.
    starts = [t[0] for t in triggers]
    for n, (_first, last) in enumerate(spans):
        time_open = True
        for t_first, _t_last, kind, gap in triggers[bisect.bisect_right(starts, last):]:
            if sentence[t_first] != sentence[last]:
                break
            if kind is Kind.TERMINATE:
                break
            if kind is Kind.PAST_END:  # "cough started 2 years ago" is not a past cough
                time_open = False
            if counted[t_first] - counted[last + 1] > POST_GAP:
                break
            if gap == ADJACENT and (counted[t_first] > counted[last + 1] or (
                    n + 1 < len(spans) and spans[n + 1][0] < t_first)):
                continue  # an adjacent-only trigger further away, or another finding between
            if gap == ADJACENT:
                statuses[n].stopped = True
            elif kind in POST_KINDS and (time_open or kind is not Kind.PAST_POST):
                _apply(statuses[n], kind)
    return statuses


def find_triggers(tokens: list[Token], covered: set[int] | None = None
                  ) -> list[tuple[int, int, Kind, int]]:
    """(first, last, kind, gap) of every trigger, in order; words inside a finding ('no
    appetite', 'not eating') are never part of one. A phrase with several kinds gives one
    entry per kind; a pseudo-trigger gives none."""
    triggers = []
    for m in _TRIE.scan(tokens, barrier=covered or set()):
        info: _Folded = m.payloads[0]  # type: ignore[assignment]
        if info.pseudo:
            continue
        if info.other and m.last + 1 < len(tokens) and tokens[m.last + 1].norm in _TELLING:
            continue  # "his wife has witnessed (apnoea)": she tells the patient's story
        if info.clause_start and not _clause_start(tokens, m.first):
            continue
        if info.kinds == (Kind.HISTORY_OF,) and m.last + 1 < len(tokens) \
                and tokens[m.last + 1].text in (":", "-", "–"):
            continue  # "History: 32 weeks pregnant…" is a section heading, not "history of"
        for k in info.kinds:
            triggers.append((m.first, m.last, k, info.gap))
    n = len(tokens)
    for i, tok in enumerate(tokens):  # '?pneumonia' (no space) is a hedge before the word
        if tok.word:
            continue
        if tok.text == "?" and i + 1 < n and tokens[i + 1].start == tok.end \
                and tokens[i + 1].word:
            triggers.append((i, i, Kind.HEDGE_PRE, DEFAULT_GAP))
        elif tok.text in SCOPE_ENDS:
            triggers.append((i, i, Kind.TERMINATE, BRACKET))
        elif tok.text in ("-", ":", "–") and i and tokens[i - 1].norm in _RELATIVE_WORDS:
            triggers.append((i - 1, i, Kind.OTHER_PERSON, DEFAULT_GAP))  # "mother - diabetes"
    order = _ORDER
    triggers.sort(key=lambda t: (t[0], t[1], order[t[2]]))
    return triggers


def _clause_start(tokens: list[Token], i: int) -> bool:
    """True if token i begins a clause (text start, after . ; : , ( or a dash), possessives
    and articles aside ('; her mother with…')."""
    j = i - 1
    while j >= 0 and tokens[j].word and not tokens[j].norm:
        j -= 1
    return j < 0 or (not tokens[j].word and tokens[j].text in ".;:,(-–")


def negated_within(tokens: list[Token]) -> bool:
    """True if a negation trigger occurs anywhere in these tokens ('abdomen non-tender')."""
    return any(kind in NEGATING for _f, _l, kind, _g in find_triggers(tokens))


_ORDER = {k: i for i, k in enumerate(Kind)}  # same-place triggers: enum order
_RELATIVE_WORDS = frozenset(normalize(w) for w in RELATIVES)
_TELLING = frozenset(normalize(w) for w in (
    "noticed", "witnessed", "observed", "seen", "reported", "heard", "found", "described",
    "mentioned", "said", "told", "brought", "noted", "remarked", "complained", "worried"))


def _apply(status: Status, kind: Kind) -> None:
    if kind in (Kind.NEG_PRE, Kind.NEG_POST):
        status.negated = True
    elif kind in (Kind.HEDGE_PRE, Kind.HEDGE_POST):
        status.uncertain = True
    elif kind is Kind.UNLIKELY:
        status.negated = True
        status.uncertain = True
    elif kind in (Kind.OTHER_PERSON, Kind.OTHER_POST):
        status.other_person = True
    elif kind in (Kind.PAST_PRE, Kind.PAST_POST):
        status.past = True
    elif kind is Kind.HISTORY_OF:
        status.history_of = True
    elif kind is Kind.TIMEFRAME:
        status.timeframe = True
    elif kind is Kind.FACTOR:
        status.factor = True


def _counted_prefix(tokens: list[Token], covered: set[int]) -> list[int]:
    """prefix[i] = counted words before token i (words that widen a scope gap)."""
    out = [0] * (len(tokens) + 1)
    total = 0
    for i, t in enumerate(tokens):
        out[i] = total
        if t.word and t.norm and t.norm not in NOT_COUNTED and i not in covered:
            total += 1
    out[len(tokens)] = total
    return out


def sentence_ids(text: str, tokens: list[Token]) -> list[int]:
    """Sentence number of each token: breaks at . ; ! ? (not '?word') and at line breaks."""
    n = len(tokens)
    out = [0] * n
    if not n:
        return out
    # Tokens that follow a line break, found from the line breaks (few) not the tokens (many).
    starts = [t.start for t in tokens]
    after_newline = set()
    k = text.find("\n", tokens[0].start)
    while k >= 0:
        i = bisect.bisect_right(starts, k)
        if i >= n:
            break
        after_newline.add(i)
        k = text.find("\n", tokens[i].start)
    sid = 0
    for i, t in enumerate(tokens):
        if i in after_newline:
            sid += 1
        out[i] = sid
        if not t.word and t.text in SENTENCE_BREAKS:
            nxt = tokens[i + 1] if i + 1 < n else None
            decimal_or_hedge = t.text == "?" and nxt is not None and nxt.start == t.end
            if not decimal_or_hedge:
                sid += 1
    return out

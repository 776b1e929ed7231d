"""Negation, uncertainty and experiencer for phrase matches: a NegEx/ConText-style scope walk.

A pre-trigger ("denies", "no", "possible") governs the findings that follow it in the same
sentence while each is at most a few words from the last one it governed, so lists work
("denies fever, chills, or cough"); a terminator ("but", "reports") or a sentence break ends
the scope. Post-triggers ("... was ruled out", "... unlikely") look back a few words.
Pseudo-triggers ("no increase", "not relieved") are matched first so they trigger nothing.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from enum import Enum

from osler.findings.lexicon import PhraseTrie
from osler.findings.tokens import SENTENCE_BREAKS, Token

DEFAULT_GAP = 5  # counted words allowed between a trigger and the first finding it governs
LIST_GAP = 2  # ... and between one governed finding and the next ("no fever, chills or cough")
POST_GAP = 3
SCOPE_ENDS = frozenset("()[]")
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


@dataclass(frozen=True, slots=True)
class Trigger:
    kind: Kind
    gap: int = DEFAULT_GAP


_NEG_PRE = """no|not|denies|denied|deny|denying|without|negative for|neg for|absence of|
free of|no evidence of|no sign of|no signs of|no history of|never|nor|neither|rules out|
ruled out|no complaints of|no c/o|not have|doesn't have|does not have|did not have|
didn't have|has not had|hasn't had|have not had|not experiencing|no known|unremarkable for|
resolution of|no longer|lack of|doesn't|does not|did not|didn't|isn't|wasn't|haven't|hasn't|
has not|have not|had no|reports no|with no|nil|not any|no further episodes of|cannot|can't|
unable to detect|free from|not complaining of|no reported|not reported|not associated with|
not accompanied by|no associated|no prior|no recent|no current|no new|no significant|
no obvious|no apparent|no clinical|no symptoms of|no features of|not febrile"""
_NEG_POST = """absent|denied|not present|is absent|are absent|was negative|were negative|
is negative|are negative|negative|ruled out|was ruled out|were ruled out|has resolved|
have resolved|resolved|not seen|not detected|not noted|not reported|not found|nil|gone"""
_PSEUDO = """no increase|not only|no further|not necessarily|gram negative|not certain|
not sure|no improvement|not improved|did not improve|
didn't improve|does not improve|doesn't improve|not relieved|no relief|not responding|
did not respond|failed to respond|not helped|no relieving|not resolved|did not resolve|
not controlled|not been controlled|no response|without relief|not tolerate|
did not tolerate|not able to|not completely|not fully|not related to food|
no idea|not sure if|not clear|without any relief|not getting better|no better|
cannot stop|can't stop|could not stop|couldn't stop|unable to stop|not stop"""
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
instead|other than|aside|although|still"""
_OTHER = """family history|family history of|fhx|fh|mother has|mother had|father has|
father had|brother has|brother had|sister has|sister had|parents have|runs in the family|
family members have|family member has|maternal|paternal|grandmother|grandfather|
in her family|in his family|in the family|relatives with"""

# Triggers that govern only the very next word ("non-smoker", not "non projectile vomiting"
# followed by a finding three words later).
_SHORT = {"non": 0, "without": 3, "nor": 3}
# Findings that are about other people by nature and survive an experiencer trigger.
OTHER_PERSON_EXEMPT_PREFIXES = ("family-history-",)
OTHER_PERSON_EXEMPT = frozenset({"sick-contact"})


def _words(block: str) -> list[str]:
    return [w.strip() for w in block.replace("\n", "").split("|") if w.strip()]


def trigger_trie() -> PhraseTrie[Trigger]:
    """All triggers in one trie; the longest phrase wins, so pseudo-triggers shadow triggers."""
    trie: PhraseTrie[Trigger] = PhraseTrie()
    for block, kind in ((_PSEUDO, Kind.PSEUDO), (_NEG_PRE, Kind.NEG_PRE),
                        (_NEG_POST, Kind.NEG_POST), (_HEDGE_PRE, Kind.HEDGE_PRE),
                        (_HEDGE_POST, Kind.HEDGE_POST), (_UNLIKELY, Kind.UNLIKELY),
                        (_TERMINATE, Kind.TERMINATE), (_OTHER, Kind.OTHER_PERSON)):
        for phrase in _words(block):
            if phrase == "?":
                continue
            trie.add(phrase, Trigger(kind, _SHORT.get(phrase, DEFAULT_GAP)))
    trie.add("non", Trigger(Kind.NEG_PRE, 0))
    return trie


_TRIE = trigger_trie()


@dataclass(slots=True)
class Status:
    """The context of one finding mention."""

    negated: bool = False
    uncertain: bool = False
    other_person: bool = False


@dataclass(slots=True)
class _Scope:
    kind: Kind
    anchor: int  # token index the gap is measured from
    gap: int  # allowed gap to the next finding: the trigger's, then LIST_GAP


def assess(text: str, tokens: list[Token], spans: list[tuple[int, int]]) -> list[Status]:
    """Status for each finding span (first and last token index), in the order given."""
    statuses = [Status() for _ in spans]
    if not spans:
        return statuses
    covered = set()
    for first, last in spans:
        covered.update(range(first, last + 1))
    triggers = []
    # Words inside a finding ('no appetite', 'not eating') are never part of a trigger.
    for m in _TRIE.scan(tokens, barrier=covered):
        kinds = {p.kind for p in m.payloads}
        kind = _pick(kinds)
        gap = min(p.gap for p in m.payloads)
        triggers.append((m.first, m.last, kind, gap))
    for i, tok in enumerate(tokens):  # '?pneumonia' (no space) is a hedge before the word
        if tok.text == "?" and i + 1 < len(tokens) and tokens[i + 1].start == tok.end \
                and tokens[i + 1].word:
            triggers.append((i, i, Kind.HEDGE_PRE, DEFAULT_GAP))
        elif tok.text in SCOPE_ENDS:
            triggers.append((i, i, Kind.TERMINATE, 0))
    triggers.sort()
    counted = _counted_prefix(tokens, covered)
    sentence = _sentence_ids(text, tokens)

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
                scopes = []
            elif kind in (Kind.NEG_PRE, Kind.HEDGE_PRE, Kind.UNLIKELY, Kind.OTHER_PERSON):
                scopes.append(_Scope(kind, last, gap))
            continue
        first, last = spans[n]
        alive = []
        for sc in scopes:
            if counted[first] - counted[sc.anchor + 1] <= sc.gap:
                _apply(statuses[n], sc.kind)
                sc.anchor = last
                sc.gap = min(sc.gap, LIST_GAP)
                alive.append(sc)
        scopes = alive

    # Backward pass: post-triggers a few words after the finding, same sentence.
    starts = [t[0] for t in triggers]
    for n, (_first, last) in enumerate(spans):
        for t_first, _t_last, kind, _gap in triggers[bisect.bisect_right(starts, last):]:
            if sentence[t_first] != sentence[last]:
                break
            if kind is Kind.TERMINATE:
                break
            if counted[t_first] - counted[last + 1] > POST_GAP:
                break
            if kind in (Kind.NEG_POST, Kind.HEDGE_POST, Kind.UNLIKELY):
                _apply(statuses[n], kind)
    return statuses


def _pick(kinds: set[Kind]) -> Kind:
    for k in (Kind.PSEUDO, Kind.UNLIKELY, Kind.NEG_PRE, Kind.HEDGE_PRE, Kind.OTHER_PERSON,
              Kind.NEG_POST, Kind.HEDGE_POST, Kind.TERMINATE):
        if k in kinds:
            return k
    return next(iter(kinds))


def _apply(status: Status, kind: Kind) -> None:
    if kind in (Kind.NEG_PRE, Kind.NEG_POST):
        status.negated = True
    elif kind in (Kind.HEDGE_PRE, Kind.HEDGE_POST):
        status.uncertain = True
    elif kind is Kind.UNLIKELY:
        status.negated = True
        status.uncertain = True
    elif kind is Kind.OTHER_PERSON:
        status.other_person = True


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


def _sentence_ids(text: str, tokens: list[Token]) -> list[int]:
    """Sentence number of each token: breaks at . ; ! ? (not '?word') and at line breaks."""
    out = [0] * len(tokens)
    sid = 0
    prev_end = tokens[0].start if tokens else 0
    for i, t in enumerate(tokens):
        if "\n" in text[prev_end:t.start]:
            sid += 1
        out[i] = sid
        if not t.word and t.text in SENTENCE_BREAKS:
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            decimal_or_hedge = t.text == "?" and nxt is not None and nxt.start == t.end
            if not decimal_or_hedge:
                sid += 1
        prev_end = t.end
    return out

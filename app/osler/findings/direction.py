"""Antonym modifiers: a finding that names an excess or a deficit (KB `direction`) is not
reported when the text qualifies it the other way: "lighter periods" is not heavy menstrual
flow, "less frequent urination" is not frequent urination, "appetite has increased" is not a
reduced appetite. Words that only grade a symptom ("less pain") leave it present: only
findings with a direction are checked.
"""

from __future__ import annotations

from osler.findings.tokens import BREAKS, Token, normalize, wordset

_UP = wordset("increased increasing increase more heavier heavy excessive excess frequent "
              "frequently higher high raised elevated faster fast rapid longer prolonged "
              "greater bigger gained gaining")
_DOWN = wordset("decreased decreasing decrease reduced reduction reducing less lesser lighter "
                "light scanty scant infrequent infrequently fewer lower low slower slow "
                "diminished diminishing shorter short smaller minimal")
UP = frozenset(normalize(w) for w in _UP)
DOWN = frozenset(normalize(w) for w in _DOWN)
OPPOSITE = {"increased": DOWN, "decreased": UP}
# Words allowed between a finding and a predicate ("periods have become much lighter").
_LINKS = frozenset(normalize(w) for w in wordset(
    "is are was were be been being has have had become became becoming got gotten getting "
    "seem seems seemed feel feels felt now much very slightly somewhat bit little far also "
    "considerably significantly noticeably lot"))
_GRADE = frozenset(normalize(w) for w in wordset(
    "much very slightly somewhat bit little far considerably significantly noticeably and or"))
MAX_BEFORE = 4
MAX_AFTER = 5


def contradicted(tokens: list[Token], first: int, last: int, direction: str | None) -> bool:
    """True if the words next to tokens[first..last] point the other way than `direction`."""
    opposite = OPPOSITE.get(direction or "")
    if not opposite:
        return False
    seen = 0
    i = first - 1
    while i >= 0 and seen < MAX_BEFORE:  # "less frequent urination", "lighter and shorter"
        t = tokens[i]
        if not t.word:
            if t.text in BREAKS and t.text != ",":
                break
        elif t.norm:
            if t.norm in opposite:
                return True
            if t.norm not in _GRADE and t.norm not in UP and t.norm not in DOWN:
                break
            seen += 1
        i -= 1
    seen = 0
    i = last + 1
    while i < len(tokens) and seen < MAX_AFTER:  # "periods have become lighter"
        t = tokens[i]
        if not t.word:
            if t.text in BREAKS:
                break
        elif t.norm:
            if t.norm in opposite:
                return True
            if t.norm not in _LINKS:
                break
            seen += 1
        i += 1
    return False


def clause_contradicts(tokens: list[Token], direction: str | None) -> bool:
    """True if a clause matched to a finding by meaning holds a word of the other direction
    (sentence embeddings put 'lighter periods' next to 'heavy periods')."""
    opposite = OPPOSITE.get(direction or "")
    return bool(opposite) and any(t.word and t.norm in opposite for t in tokens)

"""Examination adjectives said of a body part some words away: "Abdomen soft, non-tender",
"The abdomen is not distended", "Calves nontender" name abdominal tenderness, distension and
calf tenderness, present or (with the negation next to the adjective) absent.

The adjective is looked up together with a nearby body word in the KB lexicon ('tender' +
'abdomen' -> 'tender abdomen' / 'abdominal tenderness'), so only combinations the KB knows
become findings. Negation is judged at the adjective, where "non-"/"not" is written; an
adjective written with "non" glued on ("nontender") is itself a negation.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from osler.findings.lexicon import PhraseTrie, Target
from osler.findings.tokens import SENTENCE_BREAKS, Token, phrase_key

# adjective -> (adjective forms, noun forms), as written; normalised below.
_FORMS = {
    "tender": (("tender",), ("tenderness",)),
    "distended": (("distended",), ("distension", "distention")),
    "swollen": (("swollen",), ("swelling",)),
    "erythematous": (("red", "erythematous"), ("redness", "erythema")),
    "red": (("red",), ("redness",)),
    "painful": (("painful", "sore"), ("pain",)),
    "stiff": (("stiff",), ("stiffness",)),
    "enlarged": (("enlarged",), ("enlargement",)),
    "weak": (("weak",), ("weakness",)),
    "numb": (("numb",), ("numbness",)),
}
FORMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    phrase_key(k)[0]: (tuple(phrase_key(a)[0] for a in adj), tuple(phrase_key(n)[0] for n in nn))
    for k, (adj, nn) in _FORMS.items()}
_STEMS = ("tender", "distend", "swollen", "erythemat", "red", "painful", "sore", "stiff",
          "enlarged", "weak", "numb")
BACK_WORDS = 6  # body word at most this many words before the adjective ...
AHEAD_WORDS = 3  # ... or this many after it ("tender over the left calf")
_PREPOSITIONS = frozenset({"in", "over", "at", "on", "of", "around", "to"})
# Not counted on the way back: "abdomen is soft, non-tender and non-distended".
_FILLER = frozenset(phrase_key(w)[0] for w in (
    "and", "or", "nor", "non", "not", "no", "is", "are", "was", "were", "be", "also", "very",
    "mildly", "slightly", "but", "soft", "appears", "feels"))


@dataclass(frozen=True, slots=True)
class PredicateMatch:
    """A finding named by an adjective (token `adjective`) and a body word; first/last span
    both, for provenance. `negated_word`: the adjective itself negates ('nontender')."""

    first: int
    last: int
    adjective: int
    payloads: tuple[Target, ...]
    negated_word: bool


def predicate_matches(text: str, tokens: list[Token], covered: set[int],
                      lexicon: PhraseTrie[Target]) -> list[PredicateMatch]:
    """Adjective + body-word findings among tokens no lexicon phrase has taken."""
    out = []
    for i in _candidates(text, tokens):
        t = tokens[i]
        if not t.word or i in covered:
            continue
        norm, negated = t.norm, False
        if norm not in FORMS and norm.startswith("non") and norm[3:] in FORMS:
            norm, negated = norm[3:], True  # 'nontender', 'nondistended'
        forms = FORMS.get(norm)
        if forms is None:
            continue
        found = _back(text, tokens, i, covered, lexicon, forms) or _ahead(
            text, tokens, i, covered, lexicon, forms)
        if found is not None:
            j, payloads = found
            out.append(PredicateMatch(min(i, j), max(i, j), i, payloads, negated))
    return out


def _candidates(text: str, tokens: list[Token]) -> list[int]:
    """Indexes of tokens that may be an adjective of FORMS, found by substring search (fast
    on long notes, where a Python loop over every token is not)."""
    low = text.lower()
    starts = None
    found: set[int] = set()
    for stem in _STEMS:
        k = low.find(stem)
        while k >= 0:
            if starts is None:
                starts = [t.start for t in tokens]
            found.add(bisect.bisect_right(starts, k) - 1)
            k = low.find(stem, k + len(stem))
    return sorted(i for i in found if i >= 0)


def _keys(words: tuple[str, ...], forms: tuple[tuple[str, ...], tuple[str, ...]]
          ) -> list[tuple[str, ...]]:
    adjs, nouns = forms
    return ([(*words, n) for n in nouns] + [(a, *words) for a in adjs]
            + [(*words, a) for a in adjs])


def _back(text: str, tokens: list[Token], i: int, covered: set[int],
          lexicon: PhraseTrie[Target], forms) -> tuple[int, tuple[Target, ...]] | None:
    seen = 0
    j = i - 1
    prev_start = tokens[i].start
    while j >= 0 and seen < BACK_WORDS:
        t = tokens[j]
        if "\n" in text[t.end:prev_start] or j in covered:
            return None
        prev_start = t.start
        if not t.word:
            if t.text in SENTENCE_BREAKS:
                return None
            j -= 1
            continue
        if t.norm:
            if t.norm not in _FILLER and t.norm not in FORMS and not (
                    t.norm.startswith("non") and t.norm[3:] in FORMS):
                seen += 1
            words = [(t.norm,)]
            if j > 0 and tokens[j - 1].word and tokens[j - 1].norm:
                words.insert(0, (tokens[j - 1].norm, t.norm))  # 'chest wall', 'lower leg'
            for w in words:
                for key in _keys(w, forms):
                    found = tuple(p for p in lexicon.lookup(key) if p.finding)
                    if found:
                        return (j - len(w) + 1, found)
        j -= 1
    return None


def _ahead(text: str, tokens: list[Token], i: int, covered: set[int],
           lexicon: PhraseTrie[Target], forms) -> tuple[int, tuple[Target, ...]] | None:
    j = i + 1
    while j < len(tokens) and not tokens[j].word and tokens[j].text not in SENTENCE_BREAKS:
        j += 1
    if j >= len(tokens) or tokens[j].norm not in _PREPOSITIONS:
        return None
    words: list[str] = []
    k = j + 1
    while k < len(tokens) and len(words) < AHEAD_WORDS:
        t = tokens[k]
        if k in covered or (not t.word and t.text in SENTENCE_BREAKS) or (
                not t.word and t.text == ","):
            break
        if t.word and t.norm:
            words.append(t.norm)
            for key in _keys(tuple(words), forms):
                found = tuple(p for p in lexicon.lookup(key) if p.finding)
                if found:
                    return (k, found)
        k += 1
    return None

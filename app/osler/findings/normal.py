"""Normal statements about an examination system or a test panel: "Abdomen: unremarkable",
"Neurological examination within normal limits", "CBC normal" make the KB's listed
findings for that system absent (KB `normal_systems`), unless the same sentence says one of
them is present or qualifies the statement ("otherwise unremarkable", "normal except…").
"""

from __future__ import annotations

from dataclasses import dataclass

from osler.findings.lexicon import PhraseTrie
from osler.findings.tokens import BREAKS, SENTENCE_BREAKS, Token, normalize, wordset
from osler.knowledge import KnowledgeBase, NormalSystem

NORMAL_PHRASES = ("unremarkable", "normal", "within normal limits", "within normal limit",
                  "wnl", "nad", "no abnormality detected", "no abnormalities detected",
                  "no abnormality", "no abnormalities", "grossly normal", "clear",
                  "clear to auscultation", "clear to auscultation bilaterally", "cta", "ctab",
                  "benign", "grossly intact", "intact", "negative", "normal limits",
                  "within normal range", "within the normal range", "in normal range",
                  "non contributory", "noncontributory", "nil abnormal", "nothing abnormal")
# Every normal phrase holds one of these: most texts hold none and are not searched further.
_HINT_WORDS = ("normal", "unremarkable", "wnl", "nad", "clear", "cta", "benign", "intact",
               "negative", "contributory")
# Words between the system and the normal word ("abdominal examination was unremarkable").
_LINKS = frozenset(normalize(w) for w in wordset(
    "exam examination examinations findings assessment test tests result results level "
    "levels panel is are was were appears appeared seemed grossly entirely completely all"))
_QUALIFIED = frozenset(normalize(w) for w in wordset(
    "otherwise except apart aside besides but however although though save"))
_TAILS = frozenset(normalize(w) for w in wordset("throughout bilaterally overall today"))
MAX_LINKS = 3


@dataclass(frozen=True, slots=True)
class NormalStatement:
    """'Abdomen: unremarkable': the system, and first/last token of the statement."""

    system: NormalSystem
    first: int
    last: int


class NormalIndex:
    """System phrases and normal phrases as tries, for one KB."""

    def __init__(self, kb: KnowledgeBase):
        self.systems: PhraseTrie[NormalSystem] = PhraseTrie()
        for s in kb.normal_systems:
            for phrase in s.phrases:
                self.systems.add(phrase, s)
        self.normal: PhraseTrie[str] = PhraseTrie()
        for phrase in NORMAL_PHRASES:
            self.normal.add(phrase, phrase)

    @staticmethod
    def of(kb: KnowledgeBase) -> NormalIndex:
        return kb.derived("findings.normal", NormalIndex)

    def statements(self, text: str, tokens: list[Token], covered: set[int]
                   ) -> list[NormalStatement]:
        """Normal statements in `tokens` (offsets into `text`), none inside a finding."""
        if not self.systems.size:
            return []
        low = text.lower()
        if not any(word in low for word in _HINT_WORDS):
            return []
        out = []
        for m in self.systems.scan(tokens, barrier=covered):
            for system in m.payloads:
                found = self._after(text, tokens, m.last, covered) or self._before(
                    text, tokens, m.first, m.last, covered)
                if found is not None:
                    first, last = min(found[0], m.first), max(found[1], m.last)
                    if not _qualified(text, tokens, first):
                        out.append(NormalStatement(system, first, last))
        return out

    def _after(self, text: str, tokens: list[Token], last: int, covered: set[int]
               ) -> tuple[int, int] | None:
        """'Abdomen: unremarkable', 'CBC within normal limits.'"""
        j = last + 1
        links = 0
        while j < len(tokens):
            t = tokens[j]
            if j in covered or "\n" in text[tokens[j - 1].end:t.start]:
                return None
            if not t.word:
                if t.text in SENTENCE_BREAKS or t.text in "(),":
                    return None
                j += 1
                continue
            if not t.norm:
                j += 1
                continue
            hit = self.normal.scan(tokens, j, min(len(tokens), j + 8), barrier=covered)
            if hit and hit[0].first == j:
                end = hit[0].last
                return (j, end) if _closes(text, tokens, end) else None
            if t.norm in _LINKS and links < MAX_LINKS:
                links += 1
                j += 1
                continue
            return None
        return None

    def _before(self, text: str, tokens: list[Token], first: int, last: int,
                covered: set[int]) -> tuple[int, int] | None:
        """'Normal abdominal examination.', 'Unremarkable neurological exam'."""
        j = first - 1
        while j >= 0 and not tokens[j].word and tokens[j].text not in BREAKS:
            j -= 1
        if j < 0 or j in covered or tokens[j].norm not in {normalize("normal"),
                                                            normalize("unremarkable")}:
            return None
        end = last
        k = last + 1
        while k < len(tokens) and tokens[k].word and tokens[k].norm in _LINKS:
            end = k
            k += 1
        return (j, end) if _closes(text, tokens, end) else None


def _closes(text: str, tokens: list[Token], end: int) -> bool:
    """The statement ends the clause: 'normal.' and not 'normal bowel sounds'."""
    k = end + 1
    while k < len(tokens) and tokens[k].word and tokens[k].norm in _TAILS:
        k += 1
    if k >= len(tokens) or "\n" in text[tokens[k - 1].end:tokens[k].start]:
        return True
    t = tokens[k]
    return not t.word and t.text in BREAKS


def _qualified(text: str, tokens: list[Token], first: int) -> bool:
    """'… otherwise unremarkable', 'normal except for…': the sentence is not all normal."""
    j = first
    while j >= 0:
        t = tokens[j]
        if not t.word and t.text in SENTENCE_BREAKS:
            break
        if t.norm in _QUALIFIED:
            return True
        if j > 0 and "\n" in text[tokens[j - 1].end:t.start]:
            break
        j -= 1
    k = first + 1
    while k < len(tokens):
        t = tokens[k]
        if (not t.word and t.text in SENTENCE_BREAKS) or "\n" in text[tokens[k - 1].end:t.start]:
            break
        if t.norm in _QUALIFIED:
            return True
        k += 1
    return False

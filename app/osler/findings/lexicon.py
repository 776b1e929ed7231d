"""Phrase matching over tokens: a trie of normalised word sequences, longest match first.

The finding lexicon is built from the KB's labels, synonyms, negated synonyms and blocked
phrases; the same trie type holds the negation and uncertainty triggers (findings/context.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from osler.findings.tokens import BREAKS, OPTIONAL, Token, phrase_key
from osler.knowledge import KnowledgeBase

T = TypeVar("T")
MAX_PHRASE_WORDS = 12
_TARGETS = "\x00"  # key under which a trie node keeps its payloads


@dataclass(frozen=True, slots=True)
class PhraseMatch(Generic[T]):
    """A phrase found in the tokens: first and last token index (inclusive) and payloads."""

    first: int
    last: int
    payloads: tuple[T, ...]


class PhraseTrie(Generic[T]):
    """Normalised phrases -> payloads; `scan` finds longest, non-overlapping matches."""

    def __init__(self) -> None:
        self.root: dict[str, dict] = {}
        self.size = 0

    def add(self, phrase: str, payload: T) -> bool:
        """Store `phrase`; False when it has no matchable words."""
        key = phrase_key(phrase)
        if not key or len(key) > MAX_PHRASE_WORDS:
            return False
        node = self.root
        for word in key:
            node = node.setdefault(word, {})
        targets = node.setdefault(_TARGETS, [])
        if payload not in targets:
            targets.append(payload)
            self.size += 1
        return True

    def scan(self, tokens: list[Token], start: int = 0, stop: int | None = None
             ) -> list[PhraseMatch[T]]:
        """Longest matches left to right; a phrase never spans a break (.,;:?! brackets)."""
        out: list[PhraseMatch[T]] = []
        end = len(tokens) if stop is None else stop
        i = start
        root = self.root
        while i < end:
            tok = tokens[i]
            if not tok.word or not tok.norm or tok.norm not in root:
                i += 1
                continue
            node = root[tok.norm]
            best = (i, node.get(_TARGETS)) if _TARGETS in node else None
            j = i + 1
            steps = 1
            while j < end and steps < MAX_PHRASE_WORDS * 2:
                t = tokens[j]
                if not t.word:
                    if t.text in BREAKS:
                        break
                    j += 1
                    continue
                if not t.norm:
                    j += 1
                    continue
                child = node.get(t.norm)
                if child is not None:
                    node = child
                    steps += 1
                    if _TARGETS in node:
                        best = (j, node[_TARGETS])
                elif t.norm in OPTIONAL:
                    steps += 1
                else:
                    break
                j += 1
            if best is None:
                i += 1
                continue
            out.append(PhraseMatch(i, best[0], tuple(best[1])))
            i = best[0] + 1
        return out


@dataclass(frozen=True, slots=True)
class Target:
    """What a lexicon phrase means: a finding id, present or absent; None id = blocked."""

    finding: str | None
    present: bool = True


def finding_lexicon(kb: KnowledgeBase) -> PhraseTrie[Target]:
    """The phrase trie for a knowledge base, built once per KB object."""
    return kb.derived("findings.lexicon", _build)


def _build(kb: KnowledgeBase) -> PhraseTrie[Target]:
    trie: PhraseTrie[Target] = PhraseTrie()
    for f in kb.findings:
        for phrase in (f.label, *f.synonyms):
            trie.add(phrase, Target(f.id, True))
        for phrase in f.negated_synonyms:
            trie.add(phrase, Target(f.id, False))
    for phrase in kb.blocked_phrases:
        trie.add(phrase, Target(None))
    return trie

"""Phrase matching over tokens: a trie of normalised word sequences, longest match first.

The finding lexicon is built from the KB's labels, synonyms, negated synonyms and blocked
phrases; the same trie type holds the negation and uncertainty triggers (findings/context.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from osler.findings.tokens import BREAKS, OPTIONAL, Token, phrase_key
from osler.knowledge import KnowledgeBase

CONJUNCTIONS = frozenset({"or", "and", "nor", "/"})

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

    def lookup(self, key: tuple[str, ...]) -> tuple[T, ...]:
        """Payloads stored under exactly this normalised word sequence."""
        node = self.root
        for word in key:
            node = node.get(word)
            if node is None:
                return ()
        return tuple(node.get(_TARGETS, ()))

    def scan(self, tokens: list[Token], start: int = 0, stop: int | None = None,
             barrier: set[int] | None = None) -> list[PhraseMatch[T]]:
        """Longest matches left to right; a phrase never spans a break (.,;:?! brackets)
        nor a token in `barrier`."""
        out: list[PhraseMatch[T]] = []
        end = len(tokens) if stop is None else stop
        wall = barrier or set()
        i = start
        root = self.root
        while i < end:
            tok = tokens[i]
            if not tok.word or not tok.norm or tok.norm not in root or i in wall:
                i += 1
                continue
            node = root[tok.norm]
            best = (i, node.get(_TARGETS)) if _TARGETS in node else None
            j = i + 1
            steps = 1
            while j < end and steps < MAX_PHRASE_WORDS * 2 and j not in wall:
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


def coordinated(tokens: list[Token], matches: list[PhraseMatch[T]], trie: PhraseTrie[T]
                ) -> tuple[list[PhraseMatch[T]], set[int]]:
    """Phrases shared across 'or'/'and': 'abdominal pain or tenderness' also names
    'abdominal tenderness', 'testicular or scrotal pain' also 'testicular pain'.

    Returns the extra matches and the tokens whose one-word match they replace
    ('itching' in 'vaginal discharge or itching' is vaginal, not skin, itching)."""
    covered = {i for m in matches for i in range(m.first, m.last + 1)}
    out: list[PhraseMatch[T]] = []
    replaced: set[int] = set()
    for m in matches:
        key = tuple(t.norm for t in tokens[m.first:m.last + 1] if t.word and t.norm)
        if not key:
            continue
        k = _across(tokens, m.last, +1)
        if k is not None and tokens[k].norm:
            for s in range(len(key) - 1):
                found = trie.lookup((*key[s:-1], tokens[k].norm))
                if found:
                    out.append(PhraseMatch(m.first, k, found))
                    replaced.add(k)
                    break
        w = _across(tokens, m.first, -1)
        if w is not None and tokens[w].norm and w not in covered and len(key) > 1:
            found = trie.lookup((tokens[w].norm, *key[1:])) or trie.lookup(
                (tokens[w].norm, key[-1]))
            if found:
                out.append(PhraseMatch(w, m.last, found))
    return out, replaced


def _across(tokens: list[Token], pos: int, step: int) -> int | None:
    """The word on the other side of a conjunction next to token `pos`, if any."""
    i = pos + step
    seen_conj = False
    while 0 <= i < len(tokens) and abs(i - pos) <= 3:
        t = tokens[i]
        if (t.word and t.norm in CONJUNCTIONS) or t.text == "/":
            seen_conj = True
        elif t.text == ",":
            pass
        elif not t.word and t.text in BREAKS:
            return None
        elif t.word and t.norm:
            return i if seen_conj else None
        i += step
    return None


@dataclass(frozen=True, slots=True)
class Target:
    """What a lexicon phrase means: a finding id, present or absent; None id = blocked."""

    finding: str | None
    present: bool = True


def finding_lexicon(kb: KnowledgeBase) -> PhraseTrie[Target]:
    """The phrase trie for a knowledge base, built once per KB object."""
    return kb.derived("findings.lexicon", _build)


def usable(kb: KnowledgeBase) -> set[str]:
    """Findings the KB can reason with: linked to a condition, or read from measurements or
    record codes. Vocabulary-only findings (SymCat's bare 'Pain') are not extracted."""
    used = {fid for c in kb.conditions for fid in c.findings}
    return {f.id for f in kb.findings if f.id in used or f.rules or f.record}


def _build(kb: KnowledgeBase) -> PhraseTrie[Target]:
    trie: PhraseTrie[Target] = PhraseTrie()
    keep = usable(kb)
    for f in kb.findings:
        if f.id not in keep:
            continue
        for phrase in (f.label, *f.synonyms):
            trie.add(phrase, Target(f.id, True))
        for phrase in f.negated_synonyms:
            trie.add(phrase, Target(f.id, False))
    for phrase in kb.blocked_phrases:
        trie.add(phrase, Target(None))
    return trie

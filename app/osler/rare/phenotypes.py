"""The patient's phenotype profile: HPO terms from Osler's findings and from the words of a
note that name an HPO term but no Osler finding ('macroorchidism', 'lens dislocation').

Findings reach HPO through the KB pack's reviewed mapping (hpo.json); a text phrase becomes
a *phenotype-only* finding with its span, read with the same negation and 'someone else'
rules as Osler's findings (findings/context.py), so 'no hepatosplenomegaly' is absent and
'his brother has ...' is not the patient's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from osler.findings import Finding, context
from osler.findings.lexicon import PhraseTrie
from osler.findings.model import Provenance
from osler.findings.tokens import tokenize
from osler.rare.ontology import PhenotypeOntology, hpo_id

MAX_TEXT_CHARS = 50_000  # as much of a note as the finding extractor reads, at most


@dataclass(frozen=True, slots=True)
class Phenotype:
    """One HPO term the patient has (or explicitly lacks), and where it came from."""

    term: int  # dense index in the ontology
    hpo: str
    label: str
    present: bool
    source: Provenance
    finding: str | None = None  # the Osler finding it maps from; None: phenotype-only text
    finding_label: str | None = None

    def to_json(self) -> dict[str, object]:
        doc: dict[str, object] = {"hpo": self.hpo, "label": self.label,
                                  "present": self.present, "source": self.source.cite()}
        if self.finding:
            doc["finding"] = self.finding
        else:
            doc["phenotype_only"] = True
        if self.source.snippet:
            doc["text"] = self.source.snippet
        return doc


def from_findings(onto: PhenotypeOntology, mapping: dict[str, tuple[str, ...]],
                  findings: Iterable[Finding]) -> list[Phenotype]:
    """HPO terms of the counted, certain findings the KB pack maps (hedged ones are not a
    phenotype the patient has)."""
    out: list[Phenotype] = []
    for f in findings:
        if not f.counted or not f.certain:
            continue
        for hpo in mapping.get(f.id, ()):
            i = onto.term(hpo)
            if i is not None:
                out.append(Phenotype(i, hpo, onto.label(i), f.present, f.source, f.id, f.label))
    return out


class TextPhenotypes:
    """Scans texts for HPO term names (one trie per ontology, built on first use)."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _tries: ClassVar[dict[str, PhraseTrie[int]]] = {}

    def __init__(self, onto: PhenotypeOntology):
        self.onto = onto
        with self._lock:
            trie = self._tries.get(onto.version)
            if trie is None:
                trie = PhraseTrie()
                for name, i in onto.text_labels():
                    trie.add(name, i)
                self._tries[onto.version] = trie
        self.trie = trie

    def scan(self, text: str, event_id: str | None, taken: list[tuple[int, int]]
             ) -> list[Phenotype]:
        """Phenotype-only findings of TEXT outside the spans Osler's findings already
        TAKE; a term named twice is kept once, present winning over absent."""
        text = text[:MAX_TEXT_CHARS]
        tokens = tokenize(text)
        matches = [m for m in self.trie.scan(tokens)
                   if not _overlaps(tokens[m.first].start, tokens[m.last].end, taken)]
        if not matches:
            return []
        statuses = context.assess(text, tokens, [(m.first, m.last) for m in matches])
        seen: dict[int, Phenotype] = {}
        for m, st in zip(matches, statuses, strict=True):
            if st.other_person or st.past or st.factor or st.uncertain:
                continue
            s, e = tokens[m.first].start, tokens[m.last].end
            for i in m.payloads:
                p = Phenotype(i, hpo_id(int(self.onto.term_ids[i])), self.onto.label(i),
                              not st.negated, Provenance(event_id, (s, e), text[s:e]))
                if i not in seen or (p.present and not seen[i].present):
                    seen[i] = p
        return list(seen.values())


def text_phenotypes(onto: PhenotypeOntology, texts: Iterable[tuple[str, str | None]],
                    findings: Iterable[Finding]) -> list[Phenotype]:
    """Phenotype-only findings of every text (the typed presentation: event None)."""
    taken: dict[str | None, list[tuple[int, int]]] = {}
    for f in findings:
        if f.source.span is not None:
            taken.setdefault(f.source.event_id, []).append(f.source.span)
    scanner = TextPhenotypes(onto)
    out: list[Phenotype] = []
    for text, event_id in texts:
        if text and text.strip():
            out.extend(scanner.scan(text, event_id, taken.get(event_id, [])))
    return out


def _overlaps(s: int, e: int, spans: list[tuple[int, int]]) -> bool:
    return any(s < b and a < e for a, b in spans)

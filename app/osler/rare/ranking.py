"""Rank rare diseases by phenotype similarity, with the evidence behind each score.

The score is the semantic similarity of the patient's HPO profile to each disease's HPO
annotations, after Köhler et al. (Am J Hum Genet 2009, the Phenomizer) and Pesquita et al.
(PLoS Comput Biol 2009):

* information content IC(t) = -ln(share of the 12,000 annotated diseases that carry t or
  a more specific term);
* each present term t is matched to the disease by Resnik similarity: the IC of the most
  informative ancestor t shares with any of the disease's terms;
* patient -> disease: the sum of those matches over the patient's terms, divided by the
  sum of their own IC (1.0 = every term of the patient is annotated to the disease);
* disease -> patient, the same the other way round, so that a disease with 80 annotations
  does not win by sheer size;
* score = 0.75 * patient->disease + 0.25 * disease->patient, minus, for each term the
  patient explicitly lacks that the disease is annotated with (or with a more specific
  term), ABSENT_WEIGHT * IC(t) over the patient's total IC.

The result is a similarity in [0, 1], *not* a probability: hpo3 carries no frequencies of
features in diseases, nor prevalences, so a likelihood cannot be computed honestly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from osler.rare.ontology import PhenotypeOntology, hpo_id
from osler.rare.phenotypes import Phenotype

FORWARD_WEIGHT = 0.75  # patient -> disease; the rest is disease -> patient
ABSENT_WEIGHT = 0.5
MISSING_SHOWN = 5  # the disease's most informative features not documented, listed
MIN_PRESENT_TERMS = 2  # informative rule: at least this many distinct present terms ...
MIN_PROFILE_NATS = 8.0  # ... carrying this much information together (~11.5 bits)
MIN_TOP_SCORE = 0.35  # ... and a best match that explains at least this much of it


@dataclass(frozen=True, slots=True)
class Match:
    """How one of the patient's phenotypes meets a disease."""

    phenotype: Phenotype
    via: str  # the HPO term they share ('' when none)
    via_label: str
    exact: bool  # the disease is annotated with the term itself or a more specific one
    nats: float

    def to_json(self) -> dict[str, object]:
        doc = self.phenotype.to_json()
        doc.update({"match": "exact" if self.exact else "related", "via": self.via,
                    "via_label": self.via_label, "information_bits": round(self.nats / 0.6931, 2)})
        return doc


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One rare disease to consider."""

    rank: int
    name: str
    codes: tuple[str, ...]  # OMIM:/ORPHA: ids
    icd10: tuple[str, ...]
    similarity: float
    matching: tuple[Match, ...]
    against: tuple[Phenotype, ...]  # explicitly absent, yet annotated to the disease
    missing: tuple[tuple[str, str], ...]  # (HPO id, label) not documented
    kb_condition: str | None = None  # the same disease in Osler's differential KB
    kb_name: str | None = None

    def to_json(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "rank": self.rank, "name": self.name, "ids": list(self.codes),
            "icd10": list(self.icd10), "similarity": round(self.similarity, 3),
            "matching": [m.to_json() for m in self.matching],
            "absent_but_expected": [p.to_json() for p in self.against],
            "not_documented": [{"hpo": h, "label": lab} for h, lab in self.missing],
        }
        if self.kb_condition:
            doc["kb_condition"] = self.kb_condition
            doc["kb_name"] = self.kb_name
        return doc


@dataclass(slots=True)
class Scores:
    """Similarity of every disease to one profile, and what the profile carries."""

    score: np.ndarray
    present: list[Phenotype]  # one per distinct, most specific present term
    absent: list[Phenotype]
    best: np.ndarray  # (present terms x diseases) Resnik match, nats
    profile_nats: float
    explained: dict[int, float] = field(default_factory=dict)


def profile(onto: PhenotypeOntology, phenotypes: list[Phenotype]
            ) -> tuple[list[Phenotype], list[Phenotype]]:
    """Distinct present terms, most specific only (a child implies its parents: counting
    both would count one sign twice), and distinct absent terms not also present."""
    present: dict[int, Phenotype] = {}
    for p in phenotypes:
        if p.present and p.term not in present and onto.phenotype[p.term]:
            present[p.term] = p
    implied: set[int] = set()
    for t in present:
        implied.update(int(a) for a in onto.ancestors(t) if a != t)
    kept = [p for t, p in present.items() if t not in implied]
    absent: dict[int, Phenotype] = {}
    for p in phenotypes:
        if not p.present and p.term not in present and p.term not in implied:
            absent.setdefault(p.term, p)
    return kept, list(absent.values())


def score(onto: PhenotypeOntology, phenotypes: list[Phenotype]) -> Scores:
    """Similarity of the profile to every disease (see the module docstring)."""
    present, absent = profile(onto, phenotypes)
    n = len(onto.diseases)
    best = np.zeros((len(present), n))
    union: set[int] = set()
    for row, p in enumerate(present):
        anc = onto.ancestors(p.term)
        union.update(int(a) for a in anc)
        for a in anc[np.argsort(onto.ic[anc], kind="stable")]:  # ascending IC: max wins
            best[row, onto.diseases_with(int(a))] = onto.ic[a]
    own = np.array([onto.ic[p.term] for p in present])
    total = float(own.sum())
    if total <= 0:
        return Scores(np.zeros(n), present, absent, best, 0.0)
    forward = best.sum(axis=0)
    for p in absent:
        forward[onto.diseases_with(p.term)] -= ABSENT_WEIGHT * onto.ic[p.term]
    forward /= total
    # disease -> patient: each annotated term's best match among the patient's ancestors
    in_union = np.zeros(len(onto), dtype=bool)
    in_union[list(union)] = True
    vals = np.where(in_union[onto.anc], onto.ic[onto.anc], 0.0)
    per_term = np.maximum.reduceat(vals, onto.anc_ptr[:-1])
    got = np.add.reduceat(per_term[onto.ann], onto.ann_ptr[:-1])
    own_d = np.add.reduceat(onto.ic[onto.ann], onto.ann_ptr[:-1])
    backward = np.divide(got, own_d, out=np.zeros(n), where=own_d > 0)
    s = FORWARD_WEIGHT * forward + (1 - FORWARD_WEIGHT) * backward
    return Scores(np.clip(s, 0.0, 1.0), present, absent, best, total)


def informative(scores: Scores) -> tuple[bool, str]:
    """The stated rule for showing the panel, and the reason when it is not shown."""
    if len(scores.present) < MIN_PRESENT_TERMS:
        return False, (f"fewer than {MIN_PRESENT_TERMS} distinct phenotype terms documented "
                       f"({len(scores.present)})")
    if scores.profile_nats < MIN_PROFILE_NATS:
        return False, (f"the documented phenotypes are too common to single out a rare "
                       f"disease ({scores.profile_nats / 0.6931:.1f} bits of information, "
                       f"{MIN_PROFILE_NATS / 0.6931:.1f} needed)")
    top = float(scores.score.max()) if scores.score.size else 0.0
    if top < MIN_TOP_SCORE:
        return False, f"no rare disease matches the profile well (best similarity {top:.2f})"
    return True, ""


def suggestions(onto: PhenotypeOntology, scores: Scores, top: int,
                icd10: dict[str, list[str]] | None = None) -> list[Suggestion]:
    """The TOP diseases with their matching, absent and undocumented phenotypes."""
    if not scores.present:
        return []
    order = np.argsort(-scores.score, kind="stable")[:top]
    out: list[Suggestion] = []
    union = {int(a) for p in scores.present for a in onto.ancestors(p.term)}
    for rank, j in enumerate(order, start=1):
        j = int(j)
        d = onto.diseases[j]
        closure = set()
        ann = onto.annotations(j)
        for t in ann:
            closure.update(int(a) for a in onto.ancestors(int(t)))
        matches = []
        for row, p in enumerate(scores.present):
            nats = float(scores.best[row, j])
            via = _via(onto, p.term, closure, nats)
            matches.append(Match(p, hpo_id(int(onto.term_ids[via])) if via is not None else "",
                                 onto.label(via) if via is not None else "",
                                 p.term in closure, nats))
        matches.sort(key=lambda m: -m.nats)
        against = tuple(p for p in scores.absent if p.term in closure)
        missing = sorted((int(t) for t in ann if int(t) not in union),
                         key=lambda t: -onto.ic[t])[:MISSING_SHOWN]
        codes = tuple(d.codes())
        out.append(Suggestion(
            rank, d.name, codes, tuple(_icd(codes, icd10)), float(scores.score[j]),
            tuple(m for m in matches if m.nats > 0), against,
            tuple((hpo_id(int(onto.term_ids[t])), onto.label(t)) for t in missing)))
    return out


def _via(onto: PhenotypeOntology, term: int, closure: set[int], nats: float) -> int | None:
    """The shared ancestor that gave the match (the most informative one)."""
    if nats <= 0:
        return None
    shared = [int(a) for a in onto.ancestors(term) if int(a) in closure]
    return max(shared, key=lambda a: onto.ic[a]) if shared else None


def _icd(codes: tuple[str, ...], icd10: dict[str, list[str]] | None) -> list[str]:
    if not icd10:
        return []
    out: list[str] = []
    for c in codes:
        for code in icd10.get(c, []):
            if code not in out:
                out.append(code)
    return out

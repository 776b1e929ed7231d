"""'Rare diseases to consider': the panel beside the differential, as one plain object.

The service builds it after the differential (reasoning/service.py), the CLI prints it as
the `rare` block of `osler ddx --json`, the window and teaching mode show it. Its scores
are phenotype similarities and are never mixed with the differential's probabilities.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from osler.findings import Finding
from osler.rare.codes import load_table
from osler.rare.ontology import PhenotypeOntology, RareUnavailable, load_ontology
from osler.rare.phenotypes import Phenotype, from_findings, text_phenotypes
from osler.rare.ranking import Suggestion, informative, score, suggestions

TOP = 10
POOR_PROBABILITY = 0.30  # the common differential's leader below this explains poorly ...
POOR_UNEXPLAINED = 0.5  # ... as does leaving this share of the phenotypes unexplained
NOTICE = ("Phenotype-similarity suggestions from the Human Phenotype Ontology (HPO "
          "{version}) with OMIM and Orphanet annotations: not probabilities, not validated "
          "for diagnosis. Scores compare the documented features with each disease's "
          "annotated features.")
ATTRIBUTION = ("Human Phenotype Ontology (release {version}): Gargano et al., Nucleic Acids "
               "Res 2024; hpo.jax.org. Orphanet: an online database of rare diseases and "
               "orphan drugs. Copyright INSERM 1999 (CC BY 4.0). OMIM\u00ae disease ids and "
               "names \u00a9 Johns Hopkins University, for reference.")


@dataclass(slots=True)
class RarePanel:
    """What the panel shows (or why it does not)."""

    shown: bool
    reason: str = ""  # why not shown, or why prominent / de-emphasised
    prominent: bool = False
    suggestions: list[Suggestion] = field(default_factory=list)
    phenotypes: list[Phenotype] = field(default_factory=list)  # the profile used
    hpo_version: str = ""
    unexplained: float = 0.0  # share of present phenotypes the common differential leaves

    @property
    def phenotype_only(self) -> list[Phenotype]:
        return [p for p in self.phenotypes if p.finding is None]

    def notice(self) -> str:
        return NOTICE.format(version=self.hpo_version or "?")

    def attribution(self) -> str:
        return ATTRIBUTION.format(version=self.hpo_version or "?")

    def to_json(self) -> dict[str, Any]:
        return {
            "shown": self.shown,
            "prominent": self.prominent,
            "reason": self.reason,
            "kind": "phenotype similarity (0-1), not a probability",
            "rule": RULE,
            "hpo_version": self.hpo_version,
            "notice": self.notice(),
            "attribution": self.attribution(),
            "unexplained_share": round(self.unexplained, 3),
            "phenotypes": [p.to_json() for p in self.phenotypes],
            "suggestions": [s.to_json() for s in self.suggestions] if self.shown else [],
        }


RULE = ("shown when at least 2 distinct phenotype terms are documented, together carrying at "
        "least 11.5 bits of information over the annotated diseases, and the best disease "
        "matches at least 0.35 of the profile; prominent when the common differential's "
        "leader is below 30 % or it leaves half or more of the phenotypes unexplained")


def unavailable(message: str) -> RarePanel:
    return RarePanel(False, message)


def build_panel(kb: Any, findings: list[Finding], texts: Iterable[tuple[str, str | None]],
                differential: Any = None, extra: Iterable[Phenotype] = (),
                top: int = TOP) -> RarePanel:
    """The panel for a case; raises RareUnavailable when HPO cannot be used here.
    EXTRA are phenotype-only findings read before (what-if recomputations keep them)."""
    mapping = getattr(kb, "hpo", None) or {}
    onto = load_ontology(getattr(kb, "hpo_version", None) or None)
    phenos = from_findings(onto, mapping, findings)
    extra = list(extra)
    phenos += extra if extra else text_phenotypes(onto, texts, findings)
    return panel_for(onto, phenos, differential, top, kb)


def panel_for(onto: PhenotypeOntology, phenos: list[Phenotype], differential: Any = None,
              top: int = TOP, kb: Any = None) -> RarePanel:
    scores = score(onto, phenos)
    ok, why = informative(scores)
    panel = RarePanel(ok, why, phenotypes=phenos, hpo_version=onto.version)
    if not ok:
        return panel
    panel.suggestions = _linked(suggestions(onto, scores, top, load_table(onto.version)), kb)
    panel.unexplained = _unexplained(scores.present, differential)
    leader = differential.diagnoses[0].probability if differential is not None and \
        differential.diagnoses else 0.0
    if differential is None:
        panel.prominent, panel.reason = True, "no common-disease differential to compare"
    elif leader < POOR_PROBABILITY or panel.unexplained >= POOR_UNEXPLAINED:
        panel.prominent = True
        panel.reason = (f"the common differential explains these findings poorly (leader "
                        f"{leader:.0%}, {panel.unexplained:.0%} of the phenotypes unexplained "
                        f"by its top 3)")
    else:
        panel.reason = (f"the common differential explains most findings (leader {leader:.0%}"
                        f", {panel.unexplained:.0%} of the phenotypes unexplained)")
    return panel


def _unexplained(present: list[Phenotype], differential: Any) -> float:
    """Share of present phenotypes no evidence row of the top 3 diagnoses cites."""
    if not present:
        return 0.0
    if differential is None:
        return 1.0
    used: set[str] = set()
    for d in differential.diagnoses[:3]:
        for e in d.evidence_for:
            fid = getattr(e, "finding_id", None) or getattr(e, "finding", None)
            if isinstance(fid, str):
                used.add(fid)
    left = [p for p in present if p.finding is None or p.finding not in used]
    return len(left) / len(present)


_KB_INDEX: dict[int, tuple[Any, dict[str, Any], dict[str, Any]]] = {}


def _kb_index(kb: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """KB conditions by normalised name/synonym and by full ICD-10 code, built once per KB
    (about 10 ms: not worth paying on every differential and what-if)."""
    hit = _KB_INDEX.get(id(kb))
    if hit is not None and hit[0] is kb:
        return hit[1], hit[2]
    from osler.rare.codes import _norm

    by_name = {_norm(c.name): c for c in kb.conditions}
    for c in kb.conditions:
        for s in getattr(c, "synonyms", ()) or ():
            by_name.setdefault(_norm(s), c)
    by_code: dict[str, Any] = {}
    for c in kb.conditions:
        for code in c.icd10:
            if len(code) > 3:
                by_code.setdefault(code.upper(), c)
    if len(_KB_INDEX) >= 8:  # a clinic has one or two packs; tests make many
        _KB_INDEX.clear()
    _KB_INDEX[id(kb)] = (kb, by_name, by_code)
    return by_name, by_code


def _linked(items: list[Suggestion], kb: Any) -> list[Suggestion]:
    """Name the KB condition that is the same disease (same name, or same full ICD-10 code)."""
    if kb is None:
        return items
    from dataclasses import replace

    from osler.rare.codes import _norm

    by_name, by_code = _kb_index(kb)
    out = []
    for s in items:
        c = by_name.get(_norm(s.name)) or next(
            (by_code[x.upper()] for x in s.icd10 if x.upper() in by_code), None)
        out.append(replace(s, kb_condition=c.id, kb_name=c.name) if c is not None else s)
    return out


__all__ = ["RarePanel", "RareUnavailable", "build_panel", "panel_for", "unavailable"]

"""What a KB pack holds: counts by source and category, ICD-10-CM coverage, the HPO mapping,
the terms note.

Printed by `osler kb stats`; the ICD-10-CM check uses the release shipped with
simple-icd-10-cm when that package is installed (codes are only checked for form otherwise).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from osler.knowledge.model import KnowledgeBase


def kb_stats(kb: KnowledgeBase) -> dict[str, Any]:
    """The `osler kb stats --json` document."""
    sources = Counter(s for c in kb.conditions for s in c.sources)
    coverage: dict[str, dict[str, Any]] = {}
    for src in sorted(sources):
        conds = [c for c in kb.conditions if src in c.sources]
        coverage[src] = _coverage(conds)
    coverage["combined"] = _coverage(kb.conditions)
    validity = _validity(kb)
    if validity is not None:
        coverage["combined"]["valid_codes"] = validity["valid"]
        coverage["combined"]["codes"] = validity["codes"]
        coverage["combined"]["billable_codes"] = validity["billable"]
        coverage["combined"]["release"] = validity["release"]
    links = sum(len(c.findings) for c in kb.conditions)
    basis = Counter(b for c in kb.conditions for b in c.finding_basis.values())
    m = kb.manifest
    return {
        "name": kb.name,
        "version": kb.version,
        "path": str(kb.path) if kb.path else None,
        "license": kb.license_note,
        "sources": [s.get("name") for s in m.get("sources", []) if isinstance(s, dict)],
        "created_by": m.get("created_by"),
        "conditions": {"total": len(kb.conditions), "by_source": dict(sorted(sources.items())),
                       "cant_miss": sum(c.cant_miss for c in kb.conditions),
                       "with_severity": sum(c.severity is not None for c in kb.conditions),
                       "prior_basis": dict(sorted(Counter(
                           c.prior_basis.split(":")[0] for c in kb.conditions).items())),
                       "prior_sum": round(sum(c.prior for c in kb.conditions), 6)},
        "findings": {"total": len(kb.findings),
                     "by_category": dict(sorted(Counter(f.category
                                                        for f in kb.findings).items())),
                     "with_threshold": sum(bool(f.rules) for f in kb.findings),
                     "with_record_rules": sum(bool(f.record) for f in kb.findings),
                     "phrases": sum(1 + len(f.synonyms) + len(f.negated_synonyms)
                                    for f in kb.findings)},
        "links": {"total": links, "by_basis": dict(sorted(basis.items()))},
        "prerequisites": _prerequisites(kb),
        "background": {
            "findings": sum(f.category in ("history", "risk-factor") for f in kb.findings),
            "with_base_rate": sum(f.base_rate is not None for f in kb.findings
                                  if f.category in ("history", "risk-factor"))},
        "equivalence_groups": len({f.group for f in kb.findings if f.group}),
        "hierarchy_links": sum(f.parent is not None for f in kb.findings),
        "episode_windows_days": dict(kb.episode_windows),
        "hpo": _hpo(kb),
        "cant_miss": sum(c.cant_miss for c in kb.conditions),
        "icd10_coverage": coverage,
    }


def _prerequisites(kb: KnowledgeBase) -> dict[str, Any]:
    """How many conditions declare what they require or are excluded by (docs/kb-pack.md)."""
    cm = [c for c in kb.conditions if c.cant_miss]
    return {
        "reviewed": sum(c.prerequisites_reviewed for c in kb.conditions),
        "with_requirements": sum(bool(c.requires) for c in kb.conditions),
        "requirements": sum(len(c.requires) for c in kb.conditions),
        "with_exclusions": sum(bool(c.excludes) for c in kb.conditions),
        "exclusions": sum(len(c.excludes) for c in kb.conditions),
        "cant_miss_reviewed": f"{sum(c.prerequisites_reviewed for c in cm)}/{len(cm)}",
    }


def _hpo(kb: KnowledgeBase) -> dict[str, Any] | None:
    """The reviewed finding -> HPO mapping (hpo.json), or None when the pack has none."""
    if kb.hpo_version is None:
        return None
    links = [link for ls in kb.hpo_links.values() for link in ls]
    mapped = set(kb.hpo_links)
    return {
        "version": kb.hpo_version,
        "findings_mapped": len(mapped),
        "findings_exact": sum(all(link.relation == "exact" for link in ls)
                              for ls in kb.hpo_links.values()),
        "terms": len({link.hpo for link in links}),
        "links": dict(sorted(Counter(link.relation for link in links).items())),
        "unmapped": {"total": len(kb.hpo_unmapped),
                     "by_reason": dict(sorted(Counter(kb.hpo_unmapped.values()).items()))},
        "unreviewed": sum(f.id not in mapped and f.id not in kb.hpo_unmapped
                          for f in kb.findings),
    }


def _coverage(conds: list) -> dict[str, Any]:
    mapped = sum(bool(c.icd10) for c in conds)
    return {"mapped": mapped, "total": len(conds),
            "fraction": round(mapped / len(conds), 4) if conds else 0.0,
            "text": f"{mapped}/{len(conds)}"}


def _validity(kb: KnowledgeBase) -> dict[str, Any] | None:
    try:
        import simple_icd_10_cm as cm
    except ImportError:
        return None
    codes = sorted({x for c in kb.conditions for x in c.icd10})
    valid = [x for x in codes if cm.is_valid_item(x)]
    release = kb.manifest.get("icd10cm_release") or "?"
    return {"codes": len(codes), "valid": len(valid),
            "billable": sum(1 for x in valid if cm.is_leaf(x)), "release": release}

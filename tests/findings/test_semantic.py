"""The MiniLM semantic fallback: faithful to the model, offline, lazy, cached safely."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from osler.findings import minilm
from osler.findings.extract import FindingExtractor
from osler.knowledge import default_kb, load_pack
from osler.knowledge.pack import default_pack_dir

PHRASES = ["he feels like he is suffocating", "pain in the lower abdomen", "fever",
           "wakes up at night finding difficulty in breathing", "Schmerzen in der Brust"]


def run(code: str, **env: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, **env}, check=True, timeout=300)
    return out.stdout.strip()


@pytest.fixture(scope="module")
def ex():
    return FindingExtractor(default_kb())


def test_paraphrases_the_lexicon_misses(ex):
    cases = {"The pain is located in lower abdomen": "lower-abdominal-pain",
             "aching in the shoulders": "shoulder-pain",
             "my tummy really hurts": "abdominal-pain",
             "he wakes up 2 or 3 times a night to void": "excessive-urination-at-night"}
    lexicon = FindingExtractor(default_kb(), semantic=False)
    for text, fid in cases.items():
        assert lexicon.from_text(text) == []
        found = ex.from_text(text)
        assert [f.id for f in found] == [fid], text
        f = found[0]
        assert f.present and ex.threshold <= f.score < 1.0
        assert f.to_json()["score"] == round(f.score, 3)
        s, e = f.source.span
        assert text[s:e] == f.source.snippet


def test_semantic_does_not_touch_clauses_the_lexicon_explained(ex):
    found = ex.from_text("Denies chest pain. Cannot stop scratching my skin.")
    assert {(f.id, f.present) for f in found} == {("chest-pain", False),
                                                  ("itching-of-skin", True)}
    assert all(f.score == 1.0 for f in found)


def test_nonsense_and_unrelated_clauses_stay_unmatched(ex):
    for text in ("The weather was lovely at the beach yesterday",
                 "She works as an office manager doing filing and clerical work",
                 "Les résultats seront disponibles demain matin"):
        assert ex.from_text(text) == [], text


@pytest.mark.slow
def test_numpy_encoder_matches_sentence_transformers():
    st = pytest.importorskip("sentence_transformers")
    ours = minilm.shared_encoder().encode(PHRASES)
    theirs = st.SentenceTransformer(str(minilm.model_dir()), device="cpu").encode(
        PHRASES, normalize_embeddings=True)
    cos = (ours * theirs).sum(axis=1)
    assert np.all(cos > 0.9999), cos
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_lexicon_only_never_loads_the_model_and_nothing_imports_torch():
    code = ("import sys; from osler.knowledge import default_kb; "
            "from osler.findings.extract import FindingExtractor; "
            "kb = default_kb(); FindingExtractor(kb, semantic=False).from_text('no fever'); "
            "a = sorted(m for m in ('tokenizers', 'safetensors', 'torch') if m in sys.modules); "
            "FindingExtractor(kb).from_text('my tummy really hurts'); "
            "b = sorted(m for m in ('tokenizers', 'safetensors', 'torch', 'transformers') "
            "if m in sys.modules); print(a, b)")
    assert run(code) == "[] ['safetensors', 'tokenizers']"


def test_vocabulary_cache_holds_vocabulary_vectors_only(tmp_path):
    secret = "Zebedee reports crushing substernal heaviness"
    code = ("from osler.knowledge import default_kb; "
            "from osler.findings.extract import FindingExtractor; "
            "from osler.findings.semantic import SemanticIndex; "
            f"ex = FindingExtractor(default_kb()); ex.from_text({secret!r}); "
            "idx = SemanticIndex.of(ex.kb); print(len(idx.phrases))")
    from osler.locations import kb_dir

    # Without the shipped embeddings (another KB, or an install without them) the user's
    # cache is written; with them (the default) nothing is.
    n = int(run(code, XDG_CACHE_HOME=str(tmp_path), HOME=str(tmp_path),
                OSLER_RESOURCES=str(tmp_path / "no-resources"), OSLER_KB=str(kb_dir())))
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 1 and files[0].name.startswith("vocab-") and files[0].suffix == ".npy"
    assert np.load(files[0]).shape == (n, 384)
    for p in files:
        assert b"Zebedee" not in p.read_bytes()
    run(code, XDG_CACHE_HOME=str(tmp_path / "none"), HOME=str(tmp_path / "none"),
        OSLER_NO_DISK_CACHE="1")
    assert not (tmp_path / "none").exists()
    run(code, XDG_CACHE_HOME=str(tmp_path / "shipped"), HOME=str(tmp_path / "shipped"))
    assert not (tmp_path / "shipped").exists(), "the shipped embeddings were not used"


def test_missing_model_degrades_to_lexicon_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(minilm, "model_dir", lambda: tmp_path)  # an empty folder
    kb = load_pack(default_pack_dir())  # a fresh KB: no semantic index cached on it yet
    ex = FindingExtractor(kb)
    assert [f.id for f in ex.from_text("no fever; my tummy really hurts")] == ["fever"]
    assert ex.warnings and "semantic matching off" in ex.warnings[0]
    assert not ex.semantic_ready
    json.dumps(ex.warnings)


def test_the_shipped_vocabulary_embeddings_match_the_shipped_kb():
    """A KB rebuild must regenerate resources/semantic (`python -m osler.findings.semantic`),
    else every new install spends ~30 s computing them at its first differential."""
    from osler.findings.semantic import SemanticIndex, shipped_cache_dir
    from osler.knowledge.pack import default_kb

    index = SemanticIndex.of(default_kb())
    shipped = shipped_cache_dir() / f"vocab-{index._key()}.npy"
    assert shipped.is_file(), f"{shipped} missing: run `python -m osler.findings.semantic`"
    assert len(list(shipped_cache_dir().glob("vocab-*.npy"))) == 1

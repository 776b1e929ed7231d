"""The wheel carries everything Osler needs at run time (KB pack, shipped model with its
SHA256SUMS and the project's signature over it, the public key in the code, cases, icons,
styles) and works from outside the source tree; a damaged or unsigned model in it is
refused with the file named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

RUN = """
import sys
from osler.cli import main
import osler
print("FROM", osler.__file__, file=sys.stderr)
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "-w", str(out),
                           "--no-deps", "--no-build-isolation", "-q"],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 and "No module named" in proc.stderr:
        pytest.skip(f"cannot build a wheel here: {proc.stderr.strip()[-200:]}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next(out.glob("osler-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("osler/_shipped/resources/kb/manifest.json",
                   "osler/_shipped/resources/kb/conditions.json",
                   "osler/_shipped/models/osler-ddx/SHA256SUMS",
                   "osler/_shipped/models/osler-ddx/SHA256SUMS.sig",
                   "osler/reasoning/signature.py",  # PROJECT_KEYS: the public key
                   "osler/_shipped/models/osler-ddx/model.safetensors",
                   "osler/_shipped/resources/cases/demo-chest-pain.json",
                   "osler/_shipped/resources/icons/osler.svg"):
        assert needed in names, needed
    assert not any("/curation/" in n for n in names), "build-only files were shipped"
    target = out / "site"
    zipfile.ZipFile(wheel).extractall(target)
    return target


def _run(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSLER_")}
    env["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, "-c", RUN, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_wheel_runs_from_outside_the_source_tree(unpacked, tmp_path):
    stats = _run(unpacked, tmp_path, "kb", "stats", "--json")
    assert stats.returncode == 0, stats.stderr[-2000:]
    assert f"FROM {unpacked}" in stats.stderr
    assert json.loads(stats.stdout)["conditions"]["total"] >= 1000
    ddx = _run(unpacked, tmp_path, "ddx", "--text", "fever and productive cough", "--age",
               "67", "--json", "--no-semantic")
    assert ddx.returncode == 0, ddx.stderr[-2000:]
    doc = json.loads(ddx.stdout)
    assert doc["model"]["id"] == "osler-ddx" and doc["differential"]


def test_a_damaged_model_file_in_the_package_is_refused_by_name(unpacked, tmp_path):
    weights = unpacked / "osler" / "_shipped" / "models" / "osler-ddx" / "model.safetensors"
    original = weights.read_bytes()
    try:
        weights.write_bytes(original[: len(original) // 2])
        ddx = _run(unpacked, tmp_path, "ddx", "--text", "fever", "--json", "--no-semantic")
        assert ddx.returncode == 2
        assert "model.safetensors" in ddx.stderr and "checksum" in ddx.stderr
    finally:
        weights.write_bytes(original)


def test_an_unsigned_model_in_the_package_is_refused_with_the_repair(unpacked, tmp_path):
    sig = unpacked / "osler" / "_shipped" / "models" / "osler-ddx" / "SHA256SUMS.sig"
    original = sig.read_bytes()
    try:
        sig.unlink()
        ddx = _run(unpacked, tmp_path, "ddx", "--text", "fever", "--json", "--no-semantic")
        assert ddx.returncode == 2
        assert "SHA256SUMS.sig" in ddx.stderr and "not the one the Osler project signed" \
            in ddx.stderr and "reinstall Osler" in ddx.stderr
    finally:
        sig.write_bytes(original)

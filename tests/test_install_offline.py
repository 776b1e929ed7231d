"""packaging/install_offline.sh refuses a damaged or unlisted wheel, naming it, and
installs nothing. (The full offline install, with every dependency's wheel, is a
documented packaging step; see packaging/README.md.)"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "packaging" / "install_offline.sh"


def _wheelhouse(tmp: Path) -> Path:
    wh = tmp / "wheelhouse"
    wh.mkdir()
    for name, data in (("osler-0.1.0-py3-none-any.whl", b"osler wheel bytes"),
                       ("torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl", b"torch bytes")):
        (wh / name).write_bytes(data)
    sums = "".join(f"{hashlib.sha256((wh / n).read_bytes()).hexdigest()}  ./{n}\n"
                   for n in sorted(p.name for p in wh.glob("*.whl")))
    (wh / "SHA256SUMS").write_text(sums)
    return wh


def _install(wh: Path, prefix: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), str(wh), str(prefix)], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(autouse=True)
def _needs_tools():
    if not shutil.which("sha256sum"):
        pytest.skip("sha256sum (coreutils) is not available")


def test_a_corrupted_wheel_stops_the_install_by_name(tmp_path):
    wh = _wheelhouse(tmp_path)
    (wh / "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"tampered")
    proc = _install(wh, tmp_path / "prefix")
    assert proc.returncode == 2
    assert "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl" in proc.stderr
    assert "checksum mismatch" in proc.stderr and "nothing was installed" in proc.stderr
    assert not (tmp_path / "prefix").exists()


def test_an_unlisted_wheel_and_a_missing_list_are_refused(tmp_path):
    wh = _wheelhouse(tmp_path)
    (wh / "extra-1.0-py3-none-any.whl").write_bytes(b"smuggled")
    proc = _install(wh, tmp_path / "prefix")
    assert proc.returncode == 2 and "extra-1.0-py3-none-any.whl: not listed" in proc.stderr
    (wh / "SHA256SUMS").unlink()
    proc = _install(wh, tmp_path / "prefix")
    assert proc.returncode == 2 and "SHA256SUMS: missing" in proc.stderr
    assert not (tmp_path / "prefix").exists()

"""The whole offline path a clinic's IT person takes, inside a network namespace: build the
wheelhouse (packaging/build_wheelhouse.sh; needs the package registries), install it with
packaging/install_offline.sh under `unshare -n` (no network at all), then from a folder
outside the checkout run `osler kb stats`, `osler ddx --text …` and `osler selfcheck
--json`, still with no network. Slow (about 3 minutes): it downloads and installs torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.conftest import REPO


def _unshare_permitted() -> bool:
    if not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


def test_wheelhouse_install_and_use_with_no_network(tmp_path):
    if not _unshare_permitted():
        pytest.skip("network namespaces (unshare -n) are not permitted on this machine")
    if not shutil.which("sha256sum"):
        pytest.skip("sha256sum (coreutils) is not available")
    wh, prefix, home = tmp_path / "wheelhouse", tmp_path / "clinic", tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OSLER_", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), WHEELHOUSE=str(wh), XDG_DATA_HOME=str(home / "data"),
               XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"))
    build = subprocess.run(["bash", str(REPO / "packaging" / "build_wheelhouse.sh")],
                           env=env, capture_output=True, text=True, timeout=1800)
    if build.returncode != 0 and "Could not find a version" in build.stderr:
        pytest.skip("the package registries are not reachable from here")
    assert build.returncode == 0, build.stderr[-3000:]
    assert (wh / "SHA256SUMS").is_file()
    install = subprocess.run(["unshare", "-n", "bash",
                              str(REPO / "packaging" / "install_offline.sh"), str(wh),
                              str(prefix)], env=env, capture_output=True, text=True,
                             timeout=1800, cwd=home)
    assert install.returncode == 0, install.stderr[-3000:]
    osler = str(prefix / "venv" / "bin" / "osler")

    def offline(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["unshare", "-n", osler, *args], env=env, capture_output=True,
                              text=True, timeout=600, cwd=home)

    stats = offline("kb", "stats", "--json")
    assert stats.returncode == 0, stats.stderr[-2000:]
    assert json.loads(stats.stdout)["conditions"]["total"] >= 1000
    ddx = offline("ddx", "--text", "fever and productive cough for three days", "--age",
                  "67", "--json")
    assert ddx.returncode == 0, ddx.stderr[-2000:]
    doc = json.loads(ddx.stdout)
    assert doc["model"]["id"] == "osler-ddx" and doc["differential"]
    check = offline("selfcheck", "--json")
    found = json.loads(check.stdout)["checks"]
    checks = {c["name"]: c["status"] for c in found}
    assert checks["Offline"] == "ok" and checks["Model checksums"] == "ok", checks
    assert "fail" not in checks.values(), checks
    sums = next(c for c in found if c["name"] == "Model checksums")
    assert str(prefix) in sums["detail"], "the installed package's own model was not used"

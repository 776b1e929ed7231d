"""Smoke-test a built one-folder app: CLI with no network, the window offscreen (or under
Xvfb), and the figures docs/install.md records (size, cold start, first differential).

    python packaging/smoke_app.py dist/osler
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEXT = "three days of fever and productive cough, breathless on stairs"


def _offline(cmd: list[str]) -> list[str]:
    """Run with no network where network namespaces are permitted."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"],
                                                  capture_output=True).returncode == 0:
        return ["unshare", "-n", *cmd]
    print("smoke: unshare -n not permitted here; running without it", file=sys.stderr)
    return cmd


def main(folder: str) -> int:
    app = Path(folder).resolve()
    home = tempfile.mkdtemp(prefix="osler-smoke-")
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=f"{home}/config",
               XDG_DATA_HOME=f"{home}/data", OSLER_PASSPHRASE="smoke test passphrase only")
    size = sum(p.stat().st_size for p in app.rglob("*") if p.is_file() and not p.is_symlink())
    t0 = time.perf_counter()
    ddx = subprocess.run(_offline([str(app / "osler"), "ddx", "--text", TEXT, "--age", "67",
                                   "--json"]), env=env, capture_output=True, text=True,
                         timeout=300, cwd=home)
    ddx_s = time.perf_counter() - t0
    assert ddx.returncode == 0, ddx.stderr[-2000:]
    doc = json.loads(ddx.stdout)
    assert doc["model"]["id"] == "osler-ddx" and doc["differential"], doc.get("warnings")
    check = subprocess.run(_offline([str(app / "osler"), "selfcheck", "--json"]), env=env,
                           capture_output=True, text=True, timeout=300, cwd=home)
    checks = json.loads(check.stdout)
    failed = [c["name"] for c in checks.get("checks", []) if c.get("status") == "fail"]
    genv = dict(env, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    t0 = time.perf_counter()
    gui = subprocess.run([str(app / "osler-gui"), "--text", TEXT, "--age", "67",
                          "--no-selfcheck", "--exit-after-first-differential"], env=genv,
                         capture_output=True, text=True, timeout=300, cwd=home)
    gui_s = time.perf_counter() - t0
    shown = [line for line in gui.stderr.splitlines() if "first differential after" in line]
    assert shown, gui.stderr[-2000:]
    print(json.dumps({"bundle_bytes": size, "bundle_mib": round(size / 2**20),
                      "cli_ddx_cold_s": round(ddx_s, 2), "selfcheck_failed": failed,
                      "window_first_differential": shown[0], "window_process_s":
                      round(gui_s, 2)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "dist/osler"))

"""Keyring mode with a real OS secret store: gnome-keyring in a private D-Bus session.

Skipped where gnome-keyring or dbus-run-session is not installed (.ci/run installs both
on Debian/Ubuntu); backend detection and passphrase mode are tested everywhere else.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

SCRIPT = """
printf %s "$KEYRING_UNLOCK" | gnome-keyring-daemon --foreground --unlock \\
    --components=secrets >/dev/null 2>&1 &
daemon=$!
for _ in $(seq 100); do
  "$PYTHON" -c "import sys; from osler.audit import keyring_status as k; \\
sys.exit(0 if k().secure else 1)" && break
  sleep 0.1
done
"$PYTHON" -m tests.audit.keyring_session "$WORK"
rc=$?
kill "$daemon" 2>/dev/null
wait "$daemon" 2>/dev/null
exit $rc
"""


def test_keyring_mode_with_gnome_keyring(tmp_path):
    if os.name != "posix" or not (shutil.which("dbus-run-session")
                                  and shutil.which("gnome-keyring-daemon")):
        pytest.skip("gnome-keyring-daemon and dbus-run-session are not installed")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OSLER_", "DBUS_", "XDG_", "GNOME_KEYRING"))}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / ".local" / "share"),
               KEYRING_UNLOCK="test-login-keyring", PYTHON=sys.executable,
               WORK=str(tmp_path / "work"), PYTHONPATH=str(REPO))
    (tmp_path / "work").mkdir()
    proc = subprocess.run(["dbus-run-session", "--", "bash", "-c", SCRIPT], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-4000:]
    facts = json.loads(proc.stdout.strip().splitlines()[-1])
    assert facts["status"]["secure"] and "SecretService" in facts["status"]["backend"]
    assert "passphrase" in facts["passphrase_needed"]
    assert facts["kills"] == 4 and facts["rekeys"] >= 4
    print(facts)

"""Cold start: a fresh process to the first differential, CLI and window, against
`python -c pass` in the same run (these machines are noisy; the ratio is the figure).

- CLI: `osler ddx --text … --json` (shipped model, CPU), wall clock end to end.
- Window: `osler-gui --text …` offscreen, from process start to the first differential
  shown (`--exit-after-first-differential`: the app closes itself then; the close is
  counted too).
Targets on the 2-core machine: CLI ≤ 2.5 s, window ≤ 6 s. Each is also timed with
OSLER_BACKEND=torch (the transformers path the NumPy forward pass replaces on the CPU).

    python -m bench.startup_bench [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

TEXT = "three days of fever and productive cough, breathless on stairs, no chest pain"
CLI_TARGET_S = 2.5
WINDOW_TARGET_S = 6.0

def _time(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=300)
    return time.perf_counter() - t0


def _window(env: dict[str, str]) -> float:
    """Launch to the first differential shown (the app closes itself at that moment)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "osler.ui.app", "--text", TEXT, "--age", "67",
                           "--sex", "male", "--no-selfcheck", "--exit-after-first-differential"],
                          env=env, capture_output=True, text=True, timeout=300)
    if "first differential after" not in proc.stderr:
        raise RuntimeError("the window showed no differential:\n" + proc.stderr[-2000:])
    return time.perf_counter() - t0


def run(repeat: int) -> dict:
    home = tempfile.mkdtemp(prefix="osler-startup-")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=home,
               XDG_CONFIG_HOME=os.path.join(home, "config"),
               XDG_DATA_HOME=os.path.join(home, "data"),
               OSLER_PASSPHRASE=os.environ.get("OSLER_PASSPHRASE", "bench only passphrase"))
    osler = [sys.executable, "-m", "osler"]
    torch_env = dict(env, OSLER_BACKEND="torch")
    base, cli, cli_torch, win, win_torch = [], [], [], [], []
    ddx = [*osler, "ddx", "--text", TEXT, "--age", "67", "--json"]
    for _ in range(repeat):
        base.append(_time([sys.executable, "-c", "pass"], env))
        cli.append(_time(ddx, env))
        cli_torch.append(_time(ddx, torch_env))
        win.append(_window(env))
        win_torch.append(_window(torch_env))
    b = statistics.median(base)
    return {"repeat": repeat, "python_pass_s": round(b, 3),
            "cli_ddx_s": round(statistics.median(cli), 2), "cli_target_s": CLI_TARGET_S,
            "window_first_differential_s": round(statistics.median(win), 2),
            "cli_ddx_torch_path_s": round(statistics.median(cli_torch), 2),
            "window_torch_path_s": round(statistics.median(win_torch), 2),
            "window_target_s": WINDOW_TARGET_S,
            "cli_ratio": round(statistics.median(cli) / b, 1),
            "window_ratio": round(statistics.median(win) / b, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    r = run(max(1, args.repeat))
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    ok = lambda good: "ok" if good else "OVER TARGET"  # noqa: E731
    print(f"python -c pass: {r['python_pass_s']:.3f} s (baseline), median of {r['repeat']}")
    print(f"osler ddx --text … --json: {r['cli_ddx_s']:.2f} s ({r['cli_ratio']}x)  target <= "
          f"{CLI_TARGET_S:g} s: {ok(r['cli_ddx_s'] <= CLI_TARGET_S)}")
    print(f"osler-gui --text …, first differential: {r['window_first_differential_s']:.2f} s "
          f"({r['window_ratio']}x)  target <= {WINDOW_TARGET_S:g} s: "
          f"{ok(r['window_first_differential_s'] <= WINDOW_TARGET_S)}")
    print(f"the same through torch + transformers (OSLER_BACKEND=torch): CLI "
          f"{r['cli_ddx_torch_path_s']:.2f} s, window {r['window_torch_path_s']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

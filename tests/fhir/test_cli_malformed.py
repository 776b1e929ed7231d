"""The real CLI on a sample of the fuzz corpus: `osler import --json` and `osler timeline
--json` exit 2 with exactly one line on stderr naming the file, or 0 with one JSON document
(warnings inside it); never 1 (internal error)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from tests.fhir.malformed import ALL_CLASSES, sample

SEED = int(os.environ.get("OSLER_FUZZ_SEED", "0"))


def _refuse_constant(name: str) -> None:
    raise AssertionError(f"{name} in the CLI's JSON output")


def _run(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "OSLER_DEBUG"}
    return subprocess.run([sys.executable, "-m", "osler", *args], capture_output=True,
                          timeout=120, env=env)


def test_cli_exits_2_with_one_line_or_0_with_json(tmp_path):
    cases = sample(per_class=2, seed=SEED + 1)
    assert len(cases) == 2 * len(ALL_CLASSES) >= 30
    jobs = []
    for i, case in enumerate(cases):
        path = tmp_path / f"case{i:02d}-{case.cls}{case.suffix}"
        path.write_bytes(case.data)
        for command in ("import", "timeline"):
            jobs.append((case, path, command))
    with ThreadPoolExecutor(max_workers=2) as pool:
        procs = list(pool.map(lambda j: _run([j[2], str(j[1]), "--json"]), jobs))
    exits = {0: 0, 2: 0}
    for (case, path, command), proc in zip(jobs, procs, strict=True):
        what = f"osler {command} on {path.name} ({case.cls}, {case.container})"
        stderr = proc.stderr.decode("utf-8")
        assert proc.returncode in (0, 2), f"{what}: exit {proc.returncode}: {stderr}"
        exits[proc.returncode] += 1
        if proc.returncode == 2:
            lines = stderr.splitlines()
            assert len(lines) == 1, f"{what}: {stderr!r}"
            assert lines[0].startswith(f"osler {command}: error: ") and path.name in lines[0], what
            assert proc.stdout == b"", what
        else:
            assert stderr == "", f"{what}: {stderr!r}"
            doc = json.loads(proc.stdout.decode("utf-8"), parse_constant=_refuse_constant)
            assert isinstance(doc["warnings"], list), what
    assert exits[0] and exits[2], exits  # the sample has both outcomes

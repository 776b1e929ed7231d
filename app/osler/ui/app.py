"""`osler-gui` entry point."""

from __future__ import annotations

import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[3] / "resources" / "cases" / "demo-chest-pain.json"


def main(argv: list[str] | None = None) -> int:
    """Until the window lands (issue 6), print the demo patient's timeline."""
    from osler.cli import main as cli_main

    args = argv if argv is not None else sys.argv[1:]
    return cli_main(["timeline", args[0] if args else str(DEMO)])

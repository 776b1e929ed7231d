"""`python -m osler` runs the command-line interface."""

from osler.cli import main

raise SystemExit(main())

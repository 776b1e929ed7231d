"""The differential session: what the clinician is looking at and its rules, without Qt.

The window (ui/ddx_controller.py) and the CLI (`osler ddx`) both drive a
`DifferentialSession`; the window only connects it to worker threads and draws it."""

from osler.session.ddx_session import DifferentialSession
from osler.session.presentation import Presentation
from osler.session.request import DdxRequest, DdxResult, compute
from osler.session.whatif import WhatIf

__all__ = ["DdxRequest", "DdxResult", "DifferentialSession", "Presentation", "WhatIf",
           "compute"]

"""The exception families that mean "bad input" (CLI exit 2, a message in the window).

Each package owns its family; this module only gathers them, lazily, so that
importing it never pulls in torch or Qt.
"""

from __future__ import annotations

from osler.audit.errors import AuditError
from osler.fhir.errors import FhirError
from osler.knowledge.model import KnowledgeError
from osler.reasoning.errors import ReasoningError
from osler.teaching.errors import TeachingError

INPUT_ERRORS: tuple[type[Exception], ...] = (FhirError, ReasoningError, AuditError,
                                             KnowledgeError, TeachingError)

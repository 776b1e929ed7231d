"""FHIR R4 import: Bundle JSON, Bulk Data NDJSON (file or folder) or one resource -> Timeline.

Errors carry their location (file, entry index or line, resource id, field).
"""

from osler.fhir.errors import FhirError, ImportIssue
from osler.fhir.importer import ImportResult, import_path, load_timeline

__all__ = ["FhirError", "ImportIssue", "ImportResult", "import_path", "load_timeline"]

"""The patient record as plain Python: a Patient and a Timeline of Events.

Nothing here knows about FHIR, models or Qt; every other package builds on it.
"""

from osler.record.event import Coding, Event, EventKind, ReferenceRange, Source
from osler.record.patient import Patient
from osler.record.timeline import Timeline

__all__ = ["Coding", "Event", "EventKind", "Patient", "ReferenceRange", "Source", "Timeline"]

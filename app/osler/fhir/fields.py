"""Type-checked access to FHIR JSON fields; a wrong type becomes an issue, not a crash."""

from __future__ import annotations

import base64
import binascii
import html
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from osler.fhir.dates import DateParseError, parse_datetime
from osler.fhir.errors import ImportIssue
from osler.fhir.reader import LONE_SURROGATE
from osler.record import Coding, Source

_TAG = re.compile(r"<[^>]+>")
SHARED_MAX_CHARS = 32  # codes, units, statuses; not ids (uuids are 36) nor free text


@dataclass(frozen=True, slots=True)
class Concept:
    """A CodeableConcept: its codings and the best text to show."""

    codings: tuple[Coding, ...]
    text: str

    @property
    def primary(self) -> Coding | None:
        return self.codings[0] if self.codings else None


class Fields:
    """Reads fields of one resource, recording an ImportIssue for each bad one."""

    def __init__(self, source: Source, issues: list[ImportIssue],
                 shared: dict[Any, Any] | None = None):
        self.source = source
        self.issues = issues
        # One per import: equal short strings and concepts become one object, so a million
        # events with the same code, unit and status hold them once (memory of big imports).
        self.shared = shared

    def warn(self, path: str, message: str) -> None:
        self.issues.append(ImportIssue(self.source, path, message))

    def obj(self, d: dict[str, Any] | None, key: str, path: str) -> dict[str, Any] | None:
        if d is None:
            return None
        v = d.get(key)
        if v is None:
            return None
        if not isinstance(v, dict):
            self.warn(path, f"expected an object, got {type(v).__name__}; ignored")
            return None
        return v

    def arr(self, d: dict[str, Any] | None, key: str, path: str) -> list[Any]:
        if d is None:
            return []
        v = d.get(key)
        if v is None:
            return []
        if not isinstance(v, list):
            self.warn(path, f"expected a list, got {type(v).__name__}; ignored")
            return []
        return v

    def objs(self, d: dict[str, Any] | None, key: str, path: str) -> list[dict[str, Any]]:
        out = []
        for i, item in enumerate(self.arr(d, key, path)):
            if isinstance(item, dict):
                out.append(item)
            else:
                self.warn(f"{path}[{i}]", f"expected an object, got {type(item).__name__}")
        return out

    def text(self, d: dict[str, Any] | None, key: str, path: str) -> str | None:
        if d is None:
            return None
        v = d.get(key)
        if v is None:
            return None
        if not isinstance(v, str):
            self.warn(path, f"expected a string, got {type(v).__name__}; ignored")
            return None
        if self.shared is not None and len(v) <= SHARED_MAX_CHARS:
            return self.shared.setdefault(v, v)
        return v

    def num(self, d: dict[str, Any] | None, key: str, path: str) -> float | None:
        if d is None:
            return None
        v = d.get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int | float):
            self.warn(path, f"expected a number, got {type(v).__name__} {str(v)[:30]!r}; "
                      "value dropped")
            return None
        if v != v or v in (float("inf"), float("-inf")):
            self.warn(path, "not a finite number; value dropped")
            return None
        return float(v)

    def when(self, d: dict[str, Any] | None, key: str, path: str) -> tuple[datetime, str] | None:
        if d is None or d.get(key) is None:
            return None
        try:
            return parse_datetime(d[key])
        except DateParseError as exc:
            self.warn(path, f"{exc}; date dropped")
            return None

    def period(
        self, d: dict[str, Any] | None, key: str, path: str
    ) -> tuple[tuple[datetime, str] | None, tuple[datetime, str] | None]:
        p = self.obj(d, key, path)
        if p is None:
            return None, None
        return self.when(p, "start", f"{path}.start"), self.when(p, "end", f"{path}.end")

    def concept(self, d: dict[str, Any] | None, key: str, path: str) -> Concept | None:
        c = self.obj(d, key, path)
        return self.concept_of(c, path) if c is not None else None

    def concept_of(self, c: dict[str, Any], path: str) -> Concept | None:
        codings = []
        for i, cd in enumerate(self.objs(c, "coding", f"{path}.coding")):
            system = self.text(cd, "system", f"{path}.coding[{i}].system")
            code = cd.get("code")
            if code is not None and not isinstance(code, str):
                code = str(code) if isinstance(code, int | float) else None
                if code is None:
                    self.warn(f"{path}.coding[{i}].code", "not a string; ignored")
            display = self.text(cd, "display", f"{path}.coding[{i}].display")
            if system or code or display:
                codings.append(Coding(system, code, display))
        text = self.text(c, "text", f"{path}.text")
        if not text:
            text = next((x.display for x in codings if x.display), None)
        if not text:
            text = next((x.code for x in codings if x.code), None)
        if not text and not codings:
            return None
        concept = Concept(tuple(codings), text or "")
        return concept if self.shared is None else self.shared.setdefault(concept, concept)

    def concepts(self, d: dict[str, Any] | None, key: str, path: str) -> list[Concept]:
        out = []
        for i, c in enumerate(self.objs(d, key, path)):
            con = self.concept_of(c, f"{path}[{i}]")
            if con is not None:
                out.append(con)
        return out

    def reference(self, d: dict[str, Any] | None, key: str, path: str) -> str | None:
        r = self.obj(d, key, path)
        if r is None:
            return None
        return self.text(r, "reference", f"{path}.reference")

    def attachment_text(self, att: dict[str, Any], path: str) -> str | None:
        """Decode an inline attachment's text (plain or HTML); URLs are never fetched."""
        data = self.text(att, "data", f"{path}.data")
        ctype = (self.text(att, "contentType", f"{path}.contentType") or "text/plain").lower()
        if data is None:
            return None
        if not (ctype.startswith("text/") or "json" in ctype or "xml" in ctype):
            return None
        try:
            raw = base64.b64decode(data, validate=False)
        except (binascii.Error, ValueError) as exc:
            self.warn(f"{path}.data", f"not valid base64 ({exc}); note text dropped")
            return None
        charset = "utf-8"
        m = re.search(r"charset=([\w-]+)", ctype)
        if m:
            charset = m.group(1)
        try:
            text = raw.decode(charset)
        except (UnicodeError, LookupError, ValueError):
            self.warn(f"{path}.data", f"text is not valid {charset[:40]}; undecodable bytes "
                      "replaced")
            text = raw.decode("utf-8", errors="replace")
        if not text.isascii() and LONE_SURROGATE.search(text):  # e.g. charset=utf-7
            self.warn(f"{path}.data", "invalid Unicode (lone surrogate) replaced by U+FFFD")
            text = LONE_SURROGATE.sub("\ufffd", text)
        if "html" in ctype:
            text = html.unescape(_TAG.sub(" ", text))
        return text


def narrative_text(div: str) -> str:
    """Plain text of an XHTML narrative div."""
    return " ".join(html.unescape(_TAG.sub(" ", div)).split())

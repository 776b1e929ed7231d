"""What a caller (window or CLI) supplies when a clinician acts on the differential."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from osler.audit.errors import AuditInputError
from osler.audit.reasons import REASONS, reason

MAX_TEXT = 8000
MAX_JSON_BYTES = 256_000
MAX_DIFFERENTIAL = 200


class Action(StrEnum):
    """What the clinician did with the model's differential."""

    ACCEPT = "accept"    # agreed with a suggested diagnosis
    REJECT = "reject"    # ruled a suggested diagnosis out
    RERANK = "rerank"    # moved a suggested diagnosis to another rank
    ADD = "add"          # added a diagnosis the model missed
    COMMENT = "comment"  # a note on the differential (or one entry) without changing it


NEEDS_DIAGNOSIS = {Action.ACCEPT, Action.REJECT, Action.RERANK, Action.ADD}
NEEDS_REASON = {Action.REJECT, Action.RERANK}

DIFFERENTIAL_KEYS = ("rank", "name", "icd10", "probability", "cant_miss")
MODEL_KEYS = ("id", "version", "sha256", "device", "quantization", "server", "weights")
"""The ddx model block's fields an entry keeps; a clinic server's origin (never credentials)
and weights file are only present for that engine (docs/clinic-server.md)."""


def canonical_json(value: Any) -> str:
    """One deterministic JSON text for VALUE (sorted keys, no spaces, no NaN): what gets hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def fingerprint_inputs(inputs: Any) -> str:
    """`sha256:<hex>` of the canonical JSON of the model's inputs (e.g. the findings list)."""
    return "sha256:" + hashlib.sha256(canonical_json(inputs).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class OverrideRecord:
    """One clinician action on a differential, as plain data; validated and normalised on creation.

    `patient_id` is the record's patient id: the store keeps only a keyed pseudonym of it.
    `diagnosis` is {"name", "icd10", "rank", "probability"}; `model` is the ddx "model" object.
    """

    action: Action | str
    clinician_id: str
    patient_id: str
    model: dict[str, Any]
    inputs_fingerprint: str
    differential_shown: list[dict[str, Any]] = field(default_factory=list)
    diagnosis: dict[str, Any] | None = None
    decision: dict[str, Any] = field(default_factory=dict)
    reason_code: str | None = None
    reason_text: str | None = None

    def __post_init__(self) -> None:
        try:
            action = Action(self.action)
        except ValueError:
            raise AuditInputError(f"unknown action {self.action!r}; use one of: "
                                  + ", ".join(a.value for a in Action), field="action") from None
        set_ = object.__setattr__
        set_(self, "action", action)
        set_(self, "clinician_id", _short_text(self.clinician_id, "clinician_id"))
        set_(self, "patient_id", _short_text(self.patient_id, "patient_id"))
        set_(self, "model", _model(self.model))
        set_(self, "inputs_fingerprint", _short_text(self.inputs_fingerprint, "inputs_fingerprint"))
        set_(self, "differential_shown", _differential(self.differential_shown))
        set_(self, "diagnosis", None if self.diagnosis is None else
             _diagnosis(self.diagnosis, "diagnosis"))
        set_(self, "decision", _json_object(self.decision, "decision"))
        text = self.reason_text
        if text is not None:
            if not isinstance(text, str):
                raise AuditInputError("must be text", field="reason_text")
            text = text.strip() or None
            if text is not None and len(text) > MAX_TEXT:
                raise AuditInputError(f"longer than {MAX_TEXT} characters", field="reason_text")
        set_(self, "reason_text", text)
        code = self.reason_code or None
        if code is not None:
            reason(code)  # raises for unknown codes
        set_(self, "reason_code", code)
        for name in ("clinician_id", "patient_id", "model", "inputs_fingerprint",
                     "differential_shown", "diagnosis", "decision", "reason_text"):
            _unicode(getattr(self, name), name)
        self._check_rules()

    def _check_rules(self) -> None:
        action = self.action
        if action in NEEDS_DIAGNOSIS and self.diagnosis is None:
            raise AuditInputError(f"a {action.value} needs the diagnosis acted on",
                                  field="diagnosis")
        if action in NEEDS_REASON and self.reason_code is None:
            raise AuditInputError(f"a {action.value} needs a reason code ("
                                  + ", ".join(REASONS) + ")", field="reason_code")
        if self.reason_code == "other" and not self.reason_text:
            raise AuditInputError('reason "other" needs free text saying why',
                                  field="reason_text")
        if action is Action.COMMENT and not self.reason_text:
            raise AuditInputError("a comment needs its text", field="reason_text")
        if action is Action.RERANK:
            new_rank = self.decision.get("new_rank")
            if not isinstance(new_rank, int) or isinstance(new_rank, bool) or new_rank < 1:
                raise AuditInputError("a rerank needs decision.new_rank, a whole number >= 1",
                                      field="decision.new_rank")
            if self.diagnosis is not None and self.diagnosis.get("rank") is None:
                raise AuditInputError("a rerank needs the diagnosis' current rank",
                                      field="diagnosis.rank")

    def reason_coding(self) -> dict[str, str] | None:
        """The reason as a FHIR Coding, or None."""
        return None if self.reason_code is None else REASONS[self.reason_code].coding()

    @classmethod
    def from_ddx(cls, ddx: dict[str, Any], *, action: Action | str, clinician_id: str,
                 patient_id: str, rank: int | None = None, name: str | None = None,
                 icd10: list[str] | str | None = None, new_rank: int | None = None,
                 reason_code: str | None = None, reason_text: str | None = None,
                 decision: dict[str, Any] | None = None) -> OverrideRecord:
        """Build a record from an `osler ddx --json` document and the clinician's choice.

        The diagnosis is the differential entry at RANK or named NAME; for "add", NAME
        (with ICD10) need not be in the differential.
        """
        if not isinstance(ddx, dict) or not isinstance(ddx.get("differential"), list):
            raise AuditInputError("not an `osler ddx --json` document (no differential list)",
                                  field="ddx")
        differential = ddx["differential"]
        diagnosis = None
        if rank is not None or name is not None:
            diagnosis = _pick(differential, rank, name)
            if diagnosis is None:
                if Action(action) is not Action.ADD or name is None:
                    what = f"rank {rank}" if rank is not None else f"name {name!r}"
                    raise AuditInputError(f"no entry with {what} in the differential shown",
                                          field="diagnosis")
                diagnosis = {"name": name, "icd10": icd10 or [], "rank": None,
                             "probability": None}
            elif icd10:
                diagnosis = {**diagnosis, "icd10": icd10}
        decision = dict(decision or {})
        if new_rank is not None:
            decision["new_rank"] = new_rank
        findings = ddx.get("findings", [])
        try:
            fingerprint = fingerprint_inputs(findings)
        except (TypeError, ValueError) as exc:  # NaN, Infinity, lone surrogates, non-JSON
            raise AuditInputError(f"not plain JSON data: {exc}", field="ddx.findings") from None
        return cls(action=action, clinician_id=clinician_id, patient_id=patient_id,
                   model=ddx.get("model") or {}, inputs_fingerprint=fingerprint,
                   differential_shown=differential, diagnosis=diagnosis, decision=decision,
                   reason_code=reason_code, reason_text=reason_text)


def _pick(differential: list[Any], rank: int | None, name: str | None) -> dict | None:
    for item in differential:
        if not isinstance(item, dict):
            continue
        if rank is not None and item.get("rank") == rank:
            return item
        if name is not None and str(item.get("name", "")).casefold() == name.casefold():
            return item
    return None


def _short_text(value: Any, where: str, limit: int = 200) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AuditInputError("required: non-empty text", field=where)
    value = value.strip()
    if len(value) > limit or any(ord(c) < 32 for c in value):
        raise AuditInputError(f"must be one line of at most {limit} characters", field=where)
    return value


def _json_object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise AuditInputError("must be a JSON object", field=where)
    try:
        text = canonical_json(value)
    except (TypeError, ValueError) as exc:
        raise AuditInputError(f"not plain JSON data: {exc}", field=where) from None
    if len(text.encode("utf-8")) > MAX_JSON_BYTES:
        raise AuditInputError(f"larger than {MAX_JSON_BYTES} bytes", field=where)
    return json.loads(text)


def _codes(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(c, str) for c in value):
        raise AuditInputError("must be a code or a list of codes", field=where)
    return [c.strip() for c in value if c.strip()]


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    try:
        ok = not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(
            value)
    except OverflowError:  # an int beyond float range
        ok = False
    if not ok:
        raise AuditInputError("must be a finite number", field=where)
    return float(value)


def _unicode(value: Any, where: str) -> None:
    """AuditInputError naming the field when a string in VALUE cannot be UTF-8 (lone
    surrogates: what invalid UTF-8 bytes in a command-line argument become)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise AuditInputError(f"not valid Unicode text (lone surrogate U+"
                                  f"{ord(value[exc.start]):04X} at character {exc.start + 1})",
                                  field=where) from None
    elif isinstance(value, dict):
        for k, v in value.items():
            _unicode(k, where)
            _unicode(v, f"{where}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _unicode(v, f"{where}[{i}]")


def _rank(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise AuditInputError("must be a whole number >= 1", field=where)
    return value


def _diagnosis(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise AuditInputError("must be an object with a name", field=where)
    probability = _number(value.get("probability"), f"{where}.probability")
    if probability is not None and not 0.0 <= probability <= 1.0:
        raise AuditInputError("must be between 0 and 1", field=f"{where}.probability")
    return {"name": _short_text(value.get("name"), f"{where}.name", 500),
            "icd10": _codes(value.get("icd10"), f"{where}.icd10"),
            "rank": _rank(value.get("rank"), f"{where}.rank"),
            "probability": probability}


def _differential(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list | tuple):
        raise AuditInputError("must be a list of differential entries",
                              field="differential_shown")
    if len(value) > MAX_DIFFERENTIAL:
        raise AuditInputError(f"more than {MAX_DIFFERENTIAL} entries",
                              field="differential_shown")
    shown = []
    for i, item in enumerate(value):
        where = f"differential_shown[{i}]"
        entry = _diagnosis(item, where)
        cant_miss = item.get("cant_miss")
        if cant_miss is not None:
            entry["cant_miss"] = bool(cant_miss)
        shown.append(entry)
    return shown


def _model(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise AuditInputError("must be the ddx model object {id, version, sha256, ...}",
                              field="model")
    model: dict[str, Any] = {}
    for key in MODEL_KEYS:
        item = value.get(key)
        if key in ("id", "version"):
            model[key] = _short_text(item, f"model.{key}")
        elif item is not None:
            if not isinstance(item, str):
                raise AuditInputError("must be text", field=f"model.{key}")
            model[key] = item
    return model

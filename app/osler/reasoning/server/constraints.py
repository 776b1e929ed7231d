"""The rationale's shape as the server's own decoding constraint: a GBNF grammar for llama.cpp
servers (llama-cpp-python and llama-server take `grammar`), a regular expression for vLLM
(`structured_outputs.regex` from 0.10.2, `guided_regex` before). The citation list may then
only hold ids from the prompt; Osler still validates every citation (a server that ignores
the constraint is caught, and counted)."""

from __future__ import annotations

import json
import re
from typing import Any

from osler.reasoning.llm.rationale import MAX_CITATIONS, Constraint

_REGEX_SPECIAL = re.compile(r"([.^$*+?()\[\]{}|\\])")


def _gbnf_literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def gbnf(constraint: Constraint) -> str:
    """A llama.cpp grammar for the text that follows the prompt (up to the stop string)."""
    if constraint.kind == "text":
        return 'root ::= [^"\\\\\\x00-\\x1F]* "\\""\n'
    if not constraint.ids:
        return 'root ::= "]"\n'
    ids = " | ".join(_gbnf_literal(json.dumps(i, ensure_ascii=False)) for i in constraint.ids)
    return (f'root ::= ( id ( ", " id ){{0,{MAX_CITATIONS - 1}}} )? "]"\n'
            f"id ::= {ids}\n")


def regex(constraint: Constraint) -> str:
    """The same constraint as a regular expression (vLLM's structured outputs)."""
    if constraint.kind == "text":
        return r'[^"\\\x00-\x1f]*"'
    if not constraint.ids:
        return r"\]"
    one = "(?:" + "|".join(_REGEX_SPECIAL.sub(r"\\\1", json.dumps(i, ensure_ascii=False))
                           for i in constraint.ids) + ")"
    return f"(?:{one}(?:, {one}){{0,{MAX_CITATIONS - 1}}})?\\]"


def constraint_fields(software: str, constraint: Constraint | None) -> dict[str, Any]:
    """Request fields that impose CONSTRAINT on this server software ({} when it has none
    that Osler knows)."""
    if constraint is None:
        return {}
    if software.startswith(("llama-cpp-python", "llama.cpp")):
        return {"grammar": gbnf(constraint)}
    if software.startswith("vLLM"):
        if _version(software) >= (0, 10, 2):
            return {"structured_outputs": {"regex": regex(constraint)}}
        return {"guided_regex": regex(constraint)}
    return {}


def _version(software: str) -> tuple[int, ...]:
    m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", software)
    if not m:
        return (0,)
    return tuple(int(x) for x in m.groups(default="0"))

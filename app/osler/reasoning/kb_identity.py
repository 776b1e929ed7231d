"""Which knowledge base a model was trained on: the KB's fingerprint and the match test.

Its own module because the service (choosing an engine) and the LLM engine (choosing its
base) both ask the question; neither should import the other to do so.
"""

from __future__ import annotations

from typing import Any

from osler.knowledge import KnowledgeBase


def kb_fingerprint(kb: KnowledgeBase) -> dict[str, str]:
    """Identity of what a model learns from a KB: ids, P(finding|condition), priors, LRs.

    Synonyms and labels may change without invalidating a model; numbers and ids may not."""
    import hashlib
    import json

    doc = {
        "findings": [f.id for f in kb.findings],
        "conditions": [[c.id, sorted(c.findings.items()), c.prior, sorted(c.age_lr.items()),
                        sorted(c.sex_lr.items())] for c in kb.conditions],
    }
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
    return {"name": kb.name, "version": kb.version, "sha256": digest}


def trained_on(meta: dict[str, Any], kb: KnowledgeBase) -> bool:
    """True when a model's osler.json names this KB's content."""
    mine = kb_fingerprint(kb)
    theirs = meta.get("kb", {})
    if theirs.get("sha256"):
        return theirs["sha256"] == mine["sha256"]
    return (theirs.get("name"), theirs.get("version")) == (mine["name"], mine["version"])

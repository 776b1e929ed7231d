"""Find a diagnosis to add (KB conditions by name, synonym or ICD-10 code; ICD-10-CM codes and
descriptions) or a finding for a what-if. Plain Python, no Qt.

The ICD-10-CM index (about 98,000 codes from simple-icd-10-cm) takes about two seconds to
build, so the window builds it once on a worker thread; KB results need no index.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from osler.knowledge import KnowledgeBase
from osler.knowledge.model import FindingDef

CODE_QUERY = re.compile(r"^[A-Za-z][0-9][0-9A-Za-z]?\.?[0-9A-Za-z]{0,4}$")


@dataclass(frozen=True, slots=True)
class DiagnosisChoice:
    """A diagnosis the clinician can add: its name, ICD-10-CM codes and where it came from."""

    name: str
    icd10: tuple[str, ...]
    source: str  # "kb" (a condition the model knows) or "icd10cm"
    condition_id: str | None = None

    def label(self) -> str:
        codes = ", ".join(self.icd10)
        where = "knowledge base" if self.source == "kb" else "ICD-10-CM"
        return f"{self.name} ({codes}) · {where}" if codes else f"{self.name} · {where}"


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^\w]+", text.casefold()) if w]


def _score(query: str, words: list[str], text: str) -> int | None:
    """Lower is better; None when some query word is not in TEXT."""
    hay = text.casefold()
    if not all(w in hay for w in words):
        return None
    if hay == query:
        return 0
    if hay.startswith(query):
        return 1
    if re.search(r"\b" + re.escape(query), hay):
        return 2
    return 3


def normalise_code(text: str) -> str:
    """'i2699' or 'I26.99' -> 'I2699' (no dot, upper case) for prefix matching."""
    return text.strip().upper().replace(".", "")


def search_conditions(kb: KnowledgeBase, query: str, limit: int = 25) -> list[DiagnosisChoice]:
    """KB conditions matching every word of QUERY in name or synonyms, or by ICD-10 prefix."""
    q = " ".join(query.split()).casefold()
    if not q:
        return []
    words = _words(q)
    code = normalise_code(q) if CODE_QUERY.match(q.replace(" ", "")) else None
    scored: list[tuple[int, int, str, DiagnosisChoice]] = []
    for c in kb.conditions:
        best = None
        for text in (c.name, *c.synonyms):
            s = _score(q, words, text)
            if s is not None and (best is None or s < best):
                best = s
        if code and any(normalise_code(x).startswith(code) for x in c.icd10):
            best = -1 if best is None else min(best, -1)
        if best is not None:
            scored.append((best, len(c.name), c.name,
                           DiagnosisChoice(c.name, tuple(c.icd10), "kb", c.id)))
    scored.sort(key=lambda t: t[:3])
    return [t[3] for t in scored[:limit]]


def search_findings(kb: KnowledgeBase, query: str, limit: int = 25) -> list[FindingDef]:
    """KB findings (the model's vocabulary) matching every word in label or synonyms."""
    q = " ".join(query.split()).casefold()
    if not q:
        return []
    words = _words(q)
    scored = []
    for f in kb.findings:
        best = None
        for text in (f.label, f.id.replace("-", " "), *f.synonyms):
            s = _score(q, words, text)
            if s is not None and (best is None or s < best):
                best = s
        if best is not None:
            scored.append((best, len(f.label), f.label, f))
    scored.sort(key=lambda t: t[:3])
    return [t[3] for t in scored[:limit]]


class Icd10Index:
    """Every ICD-10-CM code with its description, searchable by code prefix or words."""

    def __init__(self, items: list[tuple[str, str]]):
        self.items = items  # (code with dot, description)
        self._keys = [(normalise_code(c), d.casefold()) for c, d in items]

    @classmethod
    def build(cls) -> Icd10Index:
        """Read the codes shipped with simple-icd-10-cm (about 2 s; call off the UI thread)."""
        import simple_icd_10_cm as cm

        items = [(c, cm.get_description(c)) for c in cm.get_all_codes(True)
                 if cm.is_category_or_subcategory(c) or cm.is_extended_subcategory(c)]
        return cls(items)

    def __len__(self) -> int:
        return len(self.items)

    def search(self, query: str, limit: int = 25) -> list[DiagnosisChoice]:
        """Codes starting with QUERY (when it looks like a code), else descriptions with
        every word of it; shortest (most general) first."""
        q = " ".join(query.split()).casefold()
        if not q:
            return []
        hits: list[tuple[int, int, str, str]] = []
        if CODE_QUERY.match(q.replace(" ", "")):
            code = normalise_code(q)
            hits = [(0, len(k), c, d) for (k, _), (c, d) in zip(self._keys, self.items)
                    if k.startswith(code)]
        if not hits:
            words = _words(q)
            for (_, desc), (c, d) in zip(self._keys, self.items):
                if all(w in desc for w in words):
                    hits.append((0 if desc.startswith(q) else 1, len(d), c, d))
        hits.sort()
        return [DiagnosisChoice(d, (c,), "icd10cm") for _, _, c, d in hits[:limit]]


_index: Icd10Index | None = None
_index_lock = threading.Lock()


def icd10_index() -> Icd10Index:
    """The process-wide ICD-10-CM index, built on first use (thread-safe)."""
    global _index
    with _index_lock:
        if _index is None:
            _index = Icd10Index.build()
        return _index


def icd10_index_ready() -> bool:
    return _index is not None


def search_diagnoses(kb: KnowledgeBase, query: str, limit: int = 30,
                     index: Icd10Index | None = None) -> list[DiagnosisChoice]:
    """KB conditions first, then ICD-10-CM entries whose code the KB results do not cover."""
    found = search_conditions(kb, query, limit)
    if index is None:
        return found
    covered = {code for d in found for code in d.icd10}
    for d in index.search(query, limit):
        if len(found) >= limit:
            break
        if d.icd10[0] not in covered:
            found.append(d)
    return found

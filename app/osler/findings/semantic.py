"""Semantic fallback: short clauses the lexicon did not match, compared with the vocabulary by
MiniLM sentence embeddings ("he feels like he is suffocating" -> throat feels tight).

Only vocabulary phrases (finding labels and synonyms) are embedded ahead of time; their
vectors are cached in memory and, keyed by a hash of the phrases and the model, under the
per-user cache folder (platformdirs). Patient text is embedded in memory only, never stored.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from osler.findings.lexicon import usable
from osler.findings.minilm import ModelUnavailable, model_dir, shared_encoder
from osler.findings.tokens import BREAKS, Token
from osler.knowledge import KnowledgeBase

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.80  # cosine; tuned on the Avey development vignettes (docs/findings.md)
DEFAULT_MARGIN = 0.05  # required lead over the next-closest finding (same tuning)
MAX_SYNONYMS = 8  # per finding: the label and its first synonyms (curated, most typical first)
MIN_WORDS, MAX_WORDS = 2, 14  # clause length in words that the fallback considers
SPLIT_WORDS = frozenset({"and", "but", "while", "whereas", "then"})
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Clause:
    """A stretch of text between breaks: first/last token index and the content span."""

    first: int
    last: int
    start: int
    end: int


class SemanticIndex:
    """Vocabulary phrase vectors for one KB and the finding each phrase names."""

    def __init__(self, kb: KnowledgeBase):
        keep = usable(kb)
        phrases: list[str] = []
        owners: list[str] = []
        for f in kb.findings:
            if f.id not in keep:
                continue
            for p in (f.label, *f.synonyms[:MAX_SYNONYMS]):
                if len(p) >= 3:
                    phrases.append(p)
                    owners.append(f.id)
        self.phrases = phrases
        self.owners = np.array(owners)
        # Phrases of one finding are contiguous: group starts for per-finding maxima.
        self.starts = np.array([i for i in range(len(owners))
                                if i == 0 or owners[i] != owners[i - 1]], dtype=np.intp)
        self.finding_ids = self.owners[self.starts]
        self.encoder = shared_encoder()
        self.vectors = self._load_or_embed()

    @staticmethod
    def of(kb: KnowledgeBase) -> SemanticIndex:
        return kb.derived("findings.semantic", SemanticIndex)

    def _key(self) -> str:
        h = hashlib.sha256()
        weights = model_dir() / "model.safetensors"
        h.update(f"{weights.stat().st_size}:{self.encoder.dim}".encode())
        for p in self.phrases:
            h.update(p.encode("utf-8") + b"\n")
        return h.hexdigest()[:32]

    def _load_or_embed(self) -> np.ndarray:
        """The vocabulary's embeddings: shipped with the install for the shipped KB (about
        30 s to compute on a 2-core PC), else from the user's cache, else computed once."""
        name = f"vocab-{self._key()}.npy"
        path = _cache_dir() / name if _cache_dir() else None
        for candidate in (shipped_cache_dir() / name, path):
            if candidate is None or not candidate.is_file():
                continue
            try:
                vec = np.load(candidate, allow_pickle=False)
                if vec.shape == (len(self.phrases), self.encoder.dim):
                    return vec.astype(np.float32)
            except (OSError, ValueError):
                log.warning("semantic cache %s unreadable; rebuilding", candidate)
        vec = _encode(self.encoder, self.phrases)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
                np.save(tmp, vec.astype(np.float16), allow_pickle=False)
                tmp.replace(path)
            except OSError as exc:
                log.warning("cannot write semantic cache %s: %s", path, exc)
        return vec

    def best(self, texts: list[str]) -> list[tuple[str, float, float]]:
        """For each text: the closest finding, its cosine similarity, and the margin over
        the next closest different finding (a small margin means an ambiguous clause)."""
        if not texts:
            return []
        q = _encode(self.encoder, texts)
        sims = q @ self.vectors.T
        per_finding = np.maximum.reduceat(sims, self.starts, axis=1)
        out = []
        for row in per_finding:
            order = np.argsort(row)[::-1][:2]
            top = float(row[order[0]])
            second = float(row[order[1]]) if len(order) > 1 else -1.0
            out.append((str(self.finding_ids[order[0]]), top, top - second))
        return out


def _encode(encoder, texts: list[str]) -> np.ndarray:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return encoder.encode(texts)
    # One BLAS thread: on a busy machine oversubscribed BLAS threads are slower, not faster.
    with threadpool_limits(1, "blas"):
        return encoder.encode(texts)


def shipped_cache_dir() -> Path:
    """Embeddings computed at build time for the shipped KB (resources/semantic)."""
    from osler.locations import resources_dir

    return resources_dir() / "semantic"


def write_shipped_cache(kb: KnowledgeBase) -> Path:
    """Compute the KB vocabulary's embeddings into resources/semantic (run after a KB
    rebuild: `python -m osler.findings.semantic`); older files there are removed."""
    index = SemanticIndex.of(kb)
    out = shipped_cache_dir()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("vocab-*.npy"):
        old.unlink()
    path = out / f"vocab-{index._key()}.npy"
    np.save(path, index.vectors.astype(np.float16), allow_pickle=False)
    return path


def _cache_dir() -> Path | None:
    if os.environ.get("OSLER_NO_DISK_CACHE"):
        return None
    try:
        import platformdirs
    except ImportError:
        return None
    return Path(platformdirs.user_cache_dir("osler", appauthor=False)) / "semantic"


def clauses(tokens: list[Token], covered: set[int]) -> Iterator[Clause]:
    """Clauses with no lexical match: split at punctuation and at 'and'/'but' in long runs.
    Lazy, so a caller with a budget reads only as far into a long note as it needs."""

    def flush(run: list[int]) -> Iterator[Clause]:
        words = [i for i in run if tokens[i].word]
        if not words or any(i in covered for i in words):
            return
        if MIN_WORDS <= len(words) <= MAX_WORDS:
            yield Clause(words[0], words[-1], tokens[words[0]].start, tokens[words[-1]].end)
        elif len(words) > MAX_WORDS:
            yield from split(words)

    def split(words: list[int]) -> Iterator[Clause]:
        part: list[int] = []
        for i in words:
            if tokens[i].text.lower() in SPLIT_WORDS and part:
                if MIN_WORDS <= len(part) <= MAX_WORDS:
                    yield Clause(part[0], part[-1], tokens[part[0]].start, tokens[part[-1]].end)
                part = []
            else:
                part.append(i)
        if MIN_WORDS <= len(part) <= MAX_WORDS:
            yield Clause(part[0], part[-1], tokens[part[0]].start, tokens[part[-1]].end)

    run: list[int] = []
    for i, t in enumerate(tokens):
        if not t.word and t.text in BREAKS:
            yield from flush(run)
            run = []
        else:
            run.append(i)
    yield from flush(run)


def available() -> bool:
    """True if the local MiniLM files can be loaded (loads them once)."""
    with _lock:
        try:
            shared_encoder()
        except ModelUnavailable:
            return False
        return True


if __name__ == "__main__":
    from osler.knowledge.pack import default_kb

    print(write_shipped_cache(default_kb()))

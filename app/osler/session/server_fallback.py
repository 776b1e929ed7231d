"""The window's policy for a clinic server that stops answering, without Qt: compute with the
server; when it is down, slow, busy or answering badly, compute the same request (nothing the
clinician did is lost: the request carries the whole session) with the shipped model instead,
and say so until the server answers again. Set-up faults (wrong key, untrusted certificate)
and cancels are not hidden behind the fallback: they are raised for the user to act on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from osler.reasoning.server.errors import ServerError
from osler.session.request import BaseCache, DdxRequest, DdxResult, compute

RETRY_EVERY = 5.0  # seconds between asking a down server whether it is back
PROBE_TIMEOUT = 3.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """A computed result and, while the server is not used, why (the banner's text)."""

    result: DdxResult
    banner: str | None = None


def banner_text(error: str) -> str:
    return (f"The clinic server is not answering ({error}). Showing the shipped model's "
            "differential until it answers again.")


class ServerWithFallback:
    """Owns the server's service and, once needed, the shipped model's."""

    def __init__(self, primary: Any, make_fallback: Callable[[], Any],
                 retry_every: float = RETRY_EVERY, clock: Callable[[], float] = time.monotonic):
        self.primary = primary
        self._make_fallback = make_fallback
        self.fallback: Any = None
        self.down: str | None = None  # the error while the server is not used
        self._last_try = 0.0
        self._retry_every = retry_every
        self._clock = clock
        self._fallback_cache = BaseCache()

    @property
    def engine(self) -> Any:
        return self.primary.engine

    def _server_back(self, force: bool) -> bool:
        now = self._clock()
        if not force and now - self._last_try < self._retry_every:
            return False
        self._last_try = now
        client = self.primary.engine.client
        client.reset()
        try:
            client.request("GET", "/v1/models", timeout=PROBE_TIMEOUT)
        except ServerError:
            return False
        return True

    def compute(self, request: DdxRequest, cache: BaseCache | None = None,
                on_token: Callable[[str], None] | None = None, retry: bool = False
                ) -> Outcome:
        """The differential for REQUEST: by the server, else by the shipped model with a
        banner. `retry` asks a down server again now instead of waiting RETRY_EVERY."""
        if self.down is None or self._server_back(retry):
            try:
                result = compute(self.primary, request, cache, on_token)
            except ServerError as exc:
                if not exc.fallback:
                    raise
                self.down = str(exc)
                self._last_try = self._clock()
            else:
                self.down = None
                return Outcome(result)
        if self.fallback is None:
            self.fallback = self._make_fallback()
        result = compute(self.fallback, request, self._fallback_cache)
        banner = banner_text(self.down or "unknown error")
        if banner not in result.differential.warnings:
            result.differential.warnings.insert(0, banner)
        return Outcome(result, banner)

    def unload(self) -> None:
        for svc in (self.primary, self.fallback):
            unload = getattr(getattr(svc, "engine", None), "unload", None)
            if unload is not None:
                unload()

"""What can go wrong with a clinic server, each saying what was tried and where.

All are ReasoningErrors (CLI exit 2, a message in the window); `fallback` says whether the
window should fall back to the shipped model until the server answers again (the server
is down, slow, busy or answering badly) or whether the set-up itself is wrong."""

from __future__ import annotations

from osler.cancel import Cancelled
from osler.reasoning.errors import ReasoningError


class ServerError(ReasoningError):
    """A clinic-server problem: `where` is the server (scheme://host:port, no credentials),
    `tried` the request that failed (e.g. 'POST /v1/completions')."""

    fallback = True

    def __init__(self, message: str, where: str = "", tried: str = ""):
        self.message, self.where, self.tried = message, where, tried
        super().__init__(str(self))

    def __str__(self) -> str:
        tried = f" (tried {self.tried})" if self.tried else ""
        return f"{self.where}: {self.message}{tried}" if self.where else \
            f"{self.message}{tried}"


class ServerConfigError(ServerError):
    """The URL or the security settings are not acceptable (nothing was sent)."""

    fallback = False


class ServerUnreachable(ServerError):
    """No connection: host unknown, refused, or the connection dropped mid-answer."""


class ServerTimeout(ServerError):
    """The server did not answer within the configured time."""


class ServerBusy(ServerError):
    """HTTP 503 or 429 after the bounded retries."""


class ServerAuthError(ServerError):
    """HTTP 401/403: the workstation's API key is missing or wrong."""

    fallback = False


class ServerTLSError(ServerError):
    """The server's certificate could not be verified."""

    fallback = False


class ServerProtocolError(ServerError):
    """Not an OpenAI-compatible answer: not JSON, truncated, or missing what Osler needs."""


class ServerModelError(ServerError):
    """The server answers but cannot do what Osler needs (model not loaded, no prompt
    log-probabilities)."""


class ServerCancelled(ServerError, Cancelled):
    """The user cancelled; the requests in flight were closed."""

    fallback = False

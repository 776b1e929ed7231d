"""Where the clinic server is and how to reach it safely: URL checks (http(s) only, no
credentials in the URL, plain HTTP only to this machine unless the user accepts the risk),
the API key (kept out of reprs and messages), the clinic CA bundle, timeouts, concurrency."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from osler.reasoning.server.errors import ServerConfigError

DEFAULT_TIMEOUT = 60.0  # seconds one request may take (connect and each read)
DEFAULT_DEADLINE = 300.0  # seconds one differential may take in all
DEFAULT_CONCURRENCY = 4  # requests in flight per workstation
PLAIN_HTTP_RISK = ("plain HTTP to another machine sends the record's findings and the API key "
                   "unencrypted over the network, where anyone on it can read or change them")


def is_loopback(host: str) -> bool:
    """True for this machine only (localhost, 127.0.0.0/8, ::1): never the clinic LAN."""
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(
            ".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class ServerURL:
    """A checked base URL: scheme, host, port and path prefix (no credentials, no query)."""

    scheme: str
    host: str
    port: int
    prefix: str = ""

    @property
    def origin(self) -> str:
        """scheme://host:port: how the server is named in messages, the model block, audits."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def base(self) -> str:
        return self.origin + self.prefix

    @property
    def local(self) -> bool:
        return is_loopback(self.host)


def parse_server_url(text: str, allow_plain_http: bool = False) -> ServerURL:
    """Check a server URL the user typed; ServerConfigError naming what is wrong.

    A trailing /v1 is accepted and dropped (Osler adds the endpoint paths itself)."""
    raw = (text or "").strip()
    if not raw:
        raise ServerConfigError("no server URL given (e.g. https://gpu.clinic.lan:8443)")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise ServerConfigError(f"not a valid URL ({exc})", raw) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ServerConfigError(
            f"not an http(s) URL (scheme {parts.scheme or 'missing'!r}); give e.g. "
            "https://gpu.clinic.lan:8443", raw)
    if parts.username or parts.password:
        raise ServerConfigError("the URL holds credentials; give the API key separately (it "
                                "is kept in the OS keyring, never in the URL or settings)",
                                f"{scheme}://{parts.hostname or ''}")
    host = parts.hostname or ""
    if not host:
        raise ServerConfigError("the URL names no host", raw)
    if parts.query or parts.fragment:
        raise ServerConfigError("the URL must not have a query or fragment", raw)
    url = ServerURL(scheme, host, port or (443 if scheme == "https" else 80),
                    _prefix(parts.path))
    if scheme == "http" and not url.local and not allow_plain_http:
        raise ServerConfigError(
            f"refused: {PLAIN_HTTP_RISK}. Use https:// (with a clinic CA bundle if the "
            "clinic signs its own certificates), or allow plain HTTP explicitly "
            "(--allow-http) if the network is trusted", url.origin)
    return url


def _prefix(path: str) -> str:
    path = path.rstrip("/")
    if path.endswith("/v1"):
        path = path[:-3]
    return path


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Everything needed to talk to one clinic server. `api_key` never appears in repr."""

    url: ServerURL
    api_key: str | None = field(default=None, repr=False)
    ca_bundle: Path | None = None
    model: str | None = None  # the served model to use; None: the only/first one served
    timeout: float = DEFAULT_TIMEOUT
    deadline: float = DEFAULT_DEADLINE
    concurrency: int = DEFAULT_CONCURRENCY
    allow_plain_http: bool = False

    @classmethod
    def build(cls, url: str, api_key: str | None = None, ca_bundle: str | Path | None = None,
              model: str | None = None, timeout: float = DEFAULT_TIMEOUT,
              deadline: float = DEFAULT_DEADLINE, concurrency: int = DEFAULT_CONCURRENCY,
              allow_plain_http: bool = False) -> ServerConfig:
        """Checked configuration; ServerConfigError for a bad URL, CA bundle or number."""
        parsed = parse_server_url(url, allow_plain_http)
        bundle = None
        if ca_bundle:
            bundle = Path(ca_bundle).expanduser()
            if not bundle.is_file():
                raise ServerConfigError("no such CA bundle file", str(bundle))
            if parsed.scheme != "https":
                raise ServerConfigError("a CA bundle is only used with https://", parsed.origin)
        if not 0 < timeout <= 3600:
            raise ServerConfigError(f"timeout {timeout:g} s: must be between 0 and 3600")
        if not 1 <= concurrency <= 64:
            raise ServerConfigError(f"concurrency {concurrency}: must be between 1 and 64")
        if api_key is not None:
            api_key = api_key.strip()
            if not api_key or any(ord(c) < 33 or ord(c) > 126 for c in api_key):
                raise ServerConfigError("the API key must be one word of printable ASCII "
                                        "characters", parsed.origin)
        return cls(parsed, api_key or None, bundle, model or None, float(timeout),
                   max(float(deadline), float(timeout)), int(concurrency), allow_plain_http)

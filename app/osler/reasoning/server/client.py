"""HTTP to the clinic server with the standard library only: JSON requests, server-sent
event streams, certificate verification (a clinic CA bundle when given), timeouts, bounded
retries on 503/429, and cancellation that closes the connections in flight.

Each worker thread keeps one kept-alive connection; nothing is shared between two clients,
so two windows' requests can never mix. The API key goes only into the Authorization
header of requests to the configured server; it is never logged or put in a message.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from typing import Any

from osler.reasoning.server.config import ServerConfig
from osler.reasoning.server.errors import (
    ServerAuthError,
    ServerBusy,
    ServerCancelled,
    ServerError,
    ServerModelError,
    ServerProtocolError,
    ServerTimeout,
    ServerTLSError,
    ServerUnreachable,
)

RETRIES_WHEN_BUSY = 2
MAX_RETRY_WAIT = 2.0  # seconds; a longer Retry-After is reported instead of waited for
MAX_BODY = 64 * 2**20
USER_AGENT = "osler-clinic-client/1"


def _detail(body: bytes) -> str:
    """The server's own error text, shortened (OpenAI, FastAPI and llama.cpp shapes)."""
    try:
        doc = json.loads(body)
    except ValueError:
        return " ".join(body[:200].decode("utf-8", "replace").split())
    if isinstance(doc, dict):
        err = doc.get("error", doc.get("detail", doc.get("message", "")))
        if isinstance(err, dict):
            err = err.get("message", err)
        if isinstance(err, list) and err and isinstance(err[0], dict):
            err = err[0].get("msg", err[0])
        return " ".join(str(err).split())[:300]
    return ""


class ServerClient:
    """One workstation's (one window's) connection to one clinic server."""

    def __init__(self, config: ServerConfig):
        self.config = config
        self.where = config.url.origin
        self._tls: ssl.SSLContext | None = None
        if config.url.scheme == "https":
            self._tls = ssl.create_default_context(
                cafile=str(config.ca_bundle) if config.ca_bundle else None)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: set[http.client.HTTPConnection] = set()
        self._busy: set[http.client.HTTPConnection] = set()
        self.cancelled = threading.Event()
        self.requests_sent = 0  # for benchmarks and the self-check

    # --- connections ------------------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            u = self.config.url
            if self._tls is not None:
                conn = http.client.HTTPSConnection(u.host, u.port, timeout=self.config.timeout,
                                                   context=self._tls)
            else:
                conn = http.client.HTTPConnection(u.host, u.port, timeout=self.config.timeout)
            self._local.conn = conn
            with self._lock:
                self._connections.add(conn)
        return conn

    def _drop(self, conn: http.client.HTTPConnection) -> None:
        if getattr(self._local, "conn", None) is conn:
            self._local.conn = None
        with self._lock:
            self._connections.discard(conn)
            self._busy.discard(conn)
        with contextlib.suppress(Exception):
            conn.close()

    def cancel(self) -> None:
        """Stop every request in flight now (from any thread): their sockets are shut, so a
        blocked read returns at once; later requests fail with ServerCancelled until reset."""
        self.cancelled.set()
        with self._lock:
            busy = list(self._busy)
        for conn in busy:
            sock = getattr(conn, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def reset(self) -> None:
        """Accept requests again after a cancel (a new differential begins)."""
        self.cancelled.clear()

    def close(self) -> None:
        with self._lock:
            conns = list(self._connections)
            self._connections.clear()
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()

    # --- requests ---------------------------------------------------------------------
    def _headers(self, body: bytes | None, stream: bool) -> dict[str, str]:
        h = {"User-Agent": USER_AGENT, "Accept": "text/event-stream" if stream else
             "application/json"}
        if body is not None:
            h["Content-Type"] = "application/json"
        if self.config.api_key:
            h["Authorization"] = f"Bearer {self.config.api_key}"
        return h

    def _check_cancel(self, tried: str) -> None:
        if self.cancelled.is_set():
            raise ServerCancelled("cancelled", self.where, tried)

    def _open(self, method: str, path: str, doc: Any | None, stream: bool,
              timeout: float | None) -> tuple[http.client.HTTPConnection,
                                               http.client.HTTPResponse]:
        """Send one request (one retry on a kept-alive connection the server had closed)."""
        url_path = self.config.url.prefix + path
        tried = f"{method} {path}"
        body = json.dumps(doc).encode() if doc is not None else None
        for attempt in range(2):
            self._check_cancel(tried)
            conn = self._connection()
            reused = conn.sock is not None
            conn.timeout = timeout or self.config.timeout  # per request: never left shorter
            if conn.sock is not None:
                conn.sock.settimeout(conn.timeout)
            with self._lock:
                self._busy.add(conn)
                self.requests_sent += 1
            try:
                conn.request(method, url_path, body=body, headers=self._headers(body, stream))
                return conn, conn.getresponse()
            except (http.client.RemoteDisconnected, http.client.ImproperConnectionState,
                    BrokenPipeError, ConnectionResetError) as exc:
                self._drop(conn)
                if reused and attempt == 0 and not self.cancelled.is_set():
                    continue  # the server closed an idle kept-alive connection
                raise self._error(exc, tried) from None
            except Exception as exc:
                self._drop(conn)
                raise self._error(exc, tried) from None
        raise ServerUnreachable("no connection", self.where, tried)  # not reached

    def _error(self, exc: BaseException, tried: str) -> ServerError:
        """The exception to raise for a transport failure, in words a clinician can act on."""
        if self.cancelled.is_set():
            return ServerCancelled("cancelled", self.where, tried)
        if isinstance(exc, ServerError):
            return exc
        if isinstance(exc, ssl.SSLCertVerificationError):
            return ServerTLSError(
                f"the server's certificate is not trusted ({exc.verify_message}); give the "
                "clinic's CA bundle (--ca-bundle) or fix the certificate", self.where, tried)
        if isinstance(exc, ssl.SSLError):
            return ServerTLSError(f"TLS failed ({exc.reason or exc}); is this an https "
                                  "server?", self.where, tried)
        if isinstance(exc, socket.gaierror):
            return ServerUnreachable(f"unknown host name ({exc.strerror})", self.where, tried)
        if isinstance(exc, TimeoutError | socket.timeout):
            waited = getattr(self._local, "conn", None)
            seconds = getattr(waited, "timeout", None) or self.config.timeout
            return ServerTimeout(f"no answer within {seconds:g} s (server slow or "
                                 "overloaded)", self.where, tried)
        if isinstance(exc, ConnectionRefusedError):
            return ServerUnreachable("connection refused: is the server running and "
                                     "listening on this address and port?", self.where, tried)
        if isinstance(exc, http.client.RemoteDisconnected | ConnectionResetError |
                      BrokenPipeError | http.client.IncompleteRead):
            return ServerUnreachable("the server closed the connection before answering in "
                                     "full (stopped or restarted?)", self.where, tried)
        if isinstance(exc, http.client.HTTPException):
            return ServerProtocolError(f"not an HTTP answer ({type(exc).__name__})",
                                       self.where, tried)
        if isinstance(exc, OSError):
            return ServerUnreachable(f"network error ({exc.strerror or exc})", self.where,
                                     tried)
        return ServerProtocolError(f"{type(exc).__name__}: {exc}", self.where, tried)

    def _status(self, resp: http.client.HTTPResponse, body: bytes, tried: str) -> None:
        """Raise for an HTTP error status, saying what it means for Osler."""
        code = resp.status
        if code < 400:
            return
        detail = _detail(body)
        said = f": {detail}" if detail else ""
        if code in (401, 403):
            raise ServerAuthError(
                f"the server refused this workstation's API key (HTTP {code}); store the "
                "clinic's key for this workstation (osler server key URL, or the model "
                "manager)", self.where, tried)
        if code in (429, 503):
            raise ServerBusy(f"the server is busy (HTTP {code}{said}); try again shortly, or "
                             "give the server more slots", self.where, tried)
        if code == 404:
            raise ServerProtocolError(f"no such endpoint (HTTP 404{said}): not an "
                                      "OpenAI-compatible server, or a wrong path prefix",
                                      self.where, tried)
        if code in (400, 422) and "model" in detail.lower() and (
                "not found" in detail.lower() or "does not exist" in detail.lower()):
            raise ServerModelError(f"the model is not loaded on the server (HTTP {code}"
                                   f"{said})", self.where, tried)
        if code in (400, 422):
            hint = ""
            if "context" in detail.lower():
                hint = ("; the record is longer than the server's context per slot: raise it "
                        "(llama.cpp -c / --n_ctx, vLLM --max-model-len)")
            raise ServerModelError(f"the server rejected the request (HTTP {code}{said}){hint}",
                                   self.where, tried)
        raise ServerModelError(f"server error (HTTP {code}{said})", self.where, tried)

    def request(self, method: str, path: str, doc: Any | None = None,
                timeout: float | None = None) -> Any:
        """One JSON request and its JSON answer; 503/429 are retried briefly, then raised."""
        tried = f"{method} {path}"
        for attempt in range(RETRIES_WHEN_BUSY + 1):
            conn, resp = self._open(method, path, doc, False, timeout)
            try:
                if int(resp.getheader("Content-Length") or 0) > MAX_BODY:
                    raise ServerProtocolError("answer too large", self.where, tried)
                body = resp.read()  # IncompleteRead when the connection closes early
            except ServerError:
                self._drop(conn)
                raise
            except Exception as exc:
                self._drop(conn)
                raise self._error(exc, tried) from None
            finally:
                with self._lock:
                    self._busy.discard(conn)
            if resp.will_close:
                self._drop(conn)
            try:
                self._status(resp, body, tried)
            except ServerBusy:
                wait = _retry_after(resp)
                if attempt < RETRIES_WHEN_BUSY and wait <= MAX_RETRY_WAIT:
                    self._sleep(wait, tried)
                    continue
                raise
            try:
                return json.loads(body)
            except ValueError:
                what = "empty" if not body.strip() else "not JSON"
                if body[:1] in (b"{", b"["):
                    what = "cut short (incomplete JSON)"
                raise ServerProtocolError(f"the answer is {what}: not an OpenAI-compatible "
                                          "server, or a proxy in between changed it",
                                          self.where, tried) from None
        raise ServerBusy("the server stayed busy", self.where, tried)  # not reached

    def stream(self, path: str, doc: Any, timeout: float | None = None
               ) -> Iterator[dict[str, Any]]:
        """POST with "stream": true; yields each server-sent event's JSON until [DONE].

        A stream that ends without [DONE] raises ServerProtocolError (the answer was cut)."""
        tried = f"POST {path} (stream)"
        conn, resp = self._open("POST", path, {**doc, "stream": True}, True, timeout)
        try:
            if resp.status >= 400:
                self._status(resp, resp.read(MAX_BODY), tried)
            ctype = resp.getheader("Content-Type", "")
            if "text/event-stream" not in ctype:
                raise ServerProtocolError(f"asked for a stream but got {ctype or 'no type'}",
                                          self.where, tried)
            done = False
            for raw in _lines(resp):
                line = raw.strip()
                if not line.startswith(b"data:"):
                    continue  # comments (": ping"), event names, blank separators
                data = line[5:].strip()
                if data == b"[DONE]":
                    done = True
                    break
                try:
                    yield json.loads(data)
                except ValueError:
                    raise ServerProtocolError("a streamed event is not JSON", self.where,
                                              tried) from None
            if not done:
                raise ServerProtocolError("the stream ended before the answer was complete",
                                          self.where, tried)
        except ServerError:
            self._drop(conn)
            raise
        except GeneratorExit:
            self._drop(conn)
            raise
        except Exception as exc:
            self._drop(conn)
            raise self._error(exc, tried) from None
        finally:
            with self._lock:
                self._busy.discard(conn)
        self._drop(conn)  # a stream is not read to its very end: never reuse its connection

    def _sleep(self, seconds: float, tried: str) -> None:
        if self.cancelled.wait(seconds):
            raise ServerCancelled("cancelled", self.where, tried)


def _retry_after(resp: http.client.HTTPResponse) -> float:
    value = resp.getheader("Retry-After", "")
    try:
        return max(0.0, float(value)) if value else 0.5
    except ValueError:
        return MAX_RETRY_WAIT + 1  # an HTTP date: longer than Osler waits


def _lines(resp: http.client.HTTPResponse) -> Iterator[bytes]:
    while True:
        line = resp.readline(1 << 20)
        if not line:
            return
        yield line


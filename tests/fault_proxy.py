"""A small HTTP proxy in front of the real llama.cpp server that injects the faults a clinic
network produces (busy, slow, truncated, not JSON, streams cut short, a server that ignores
the grammar). Test harness only: every answer it passes on comes from the real server."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Rewrite = Callable[[str, dict[str, Any], dict[str, Any]], dict[str, Any]]


class FaultProxy:
    """Forwards to UPSTREAM (host, port); `fault` picks what goes wrong, `only` limits it to
    requests whose path contains that text."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.fault = "none"
        self.only = ""
        self.delay = 0.0
        self.rewrite: Rewrite | None = None
        self.requests: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:
                proxy._handle(self, "GET")

            def do_POST(self) -> None:
                proxy._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *_a: None  # clients hanging up is the point here
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def set(self, fault: str = "none", only: str = "", delay: float = 0.0,
            rewrite: Rewrite | None = None) -> None:
        self.fault, self.only, self.delay, self.rewrite = fault, only, delay, rewrite

    # --- one request ------------------------------------------------------------------
    def _send(self, h: BaseHTTPRequestHandler, code: int, body: bytes,
              ctype: str = "application/json", headers: dict[str, str] | None = None,
              length: int | None = None) -> None:
        h.send_response(code)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else None
        self.requests.append(f"{method} {h.path}")
        fault = self.fault if self.only in h.path else "none"
        if fault == "503":
            return self._send(h, 503, b'{"error": {"message": "server overloaded"}}',
                              headers={"Retry-After": "0"})
        if fault == "429":
            return self._send(h, 429, b'{"error": {"message": "too many requests"}}',
                              headers={"Retry-After": "0"})
        if fault == "html":
            return self._send(h, 200, b"<html><body>Welcome to nginx!</body></html>",
                              "text/html")
        if fault == "no_models" and h.path.endswith("/v1/models"):
            return self._send(h, 200, b'{"object": "list", "data": []}')
        if fault == "slow":
            time.sleep(self.delay)
        doc = json.loads(raw) if raw else None
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        headers = {k: v for k, v in h.headers.items()
                   if k.lower() in ("authorization", "content-type", "accept")}
        sent = json.dumps(doc).encode() if doc is not None else None
        if self.rewrite is not None and doc is not None and "grammar" in doc:
            del doc["grammar"]  # a server that ignores the constraint
            sent = json.dumps(doc).encode()
        try:
            conn.request(method, h.path, body=sent, headers=headers)
            resp = conn.getresponse()
            ctype = resp.getheader("Content-Type", "application/json")
            if "text/event-stream" in ctype:
                return self._stream(h, resp, fault)
            body = resp.read()
        except OSError:
            h.close_connection = True
            return None
        finally:
            conn.close()
        if self.rewrite is not None and doc is not None and resp.status == 200:
            body = json.dumps(self.rewrite(h.path, doc, json.loads(body))).encode()
        if fault == "truncate":
            h.close_connection = True
            return self._send(h, resp.status, body[: len(body) // 2], ctype,
                              length=len(body))
        if fault == "notjson":
            return self._send(h, 200, b"upstream said: " + body[:50], "text/plain")
        return self._send(h, resp.status, body, ctype)

    def _stream(self, h: BaseHTTPRequestHandler, resp: http.client.HTTPResponse,
                fault: str) -> None:
        """Pass a server-sent event stream on (chunked), or cut it after two events."""
        h.send_response(resp.status)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        events = 0
        try:
            while True:
                line = resp.readline()
                if not line:
                    break
                if fault == "cut_stream" and line.startswith(b"data:"):
                    events += 1
                    if events > 2:
                        break
                h.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                h.wfile.flush()
            if fault != "cut_stream":
                h.wfile.write(b"0\r\n\r\n")
            h.wfile.flush()
        finally:
            resp.close()
        h.close_connection = True

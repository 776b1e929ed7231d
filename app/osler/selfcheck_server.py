"""`osler selfcheck --server URL`: is the clinic server set up as docs/clinic-server.md says?

Checks, with every socket refused except the server's own address: the connection's
security (https with a verified certificate, or plain HTTP to this machine), the API key,
the server's identity and how it gives prompt log-probabilities, a scored demo differential
through it, and that nothing else on the network was contacted.
"""

from __future__ import annotations

import time
from typing import Any

from osler.selfcheck import FAIL, OK, WARN, Check, SocketGuard

DEMO_TEXT = ("58-year-old man with cough and fever for three days, short of breath, pleuritic "
             "chest pain; denies leg swelling")


def _security(config: Any) -> Check:
    from osler.reasoning.server.config import PLAIN_HTTP_RISK

    url = config.url
    data = {"server": url.origin, "tls": url.scheme == "https",
            "ca_bundle": str(config.ca_bundle) if config.ca_bundle else None}
    if url.scheme == "https":
        ca = f"the clinic CA bundle {config.ca_bundle}" if config.ca_bundle else \
            "the system's CA certificates"
        return Check("Server connection", OK, f"{url.origin}: https, certificate verified "
                     f"against {ca}", data)
    if url.local:
        return Check("Server connection", OK, f"{url.origin}: plain HTTP to this machine "
                     "only (nothing crosses the network)", data)
    return Check("Server connection", WARN, f"{url.origin}: plain HTTP was allowed: "
                 f"{PLAIN_HTTP_RISK}; use https", data)


def check_server(config: Any, kb: Any = None) -> list[Check]:
    """Security, key, identity, a demo differential through the server, and offline."""
    from osler.reasoning.server.errors import ServerAuthError, ServerError

    checks = [_security(config)]
    key = ("an API key is configured (kept in the OS keyring or the passphrase-protected "
           "file, or given for this run)" if config.api_key else
           "no API key: the server must then accept anyone on the network")
    checks.append(Check("Server API key", OK if config.api_key else WARN, key,
                        {"configured": bool(config.api_key)}))
    guard = SocketGuard(allow=(config.url.host, config.url.port))
    with guard.active():
        try:
            from osler.reasoning.server.client import ServerClient
            from osler.reasoning.server.identity import identify, scoring_words

            client = ServerClient(config)
            t0 = time.perf_counter()
            ident = identify(client, config.model)
            seconds = time.perf_counter() - t0
        except ServerError as exc:
            fix = " (store this workstation's key: osler server key URL)" if isinstance(
                exc, ServerAuthError) else ""
            checks.append(Check("Clinic server", FAIL, f"{exc}{fix}",
                                {"server": config.url.origin}))
            return [*checks, _only_the_server(guard, config)]
        info = ident.model_info().to_json()
        checks.append(Check(
            "Clinic server", OK,
            f"{ident.software} at {ident.origin} serves {ident.describe()}; "
            f"{scoring_words(ident.mode)}; weights hash "
            f"{ident.weights_sha256[:16] + '…' if ident.weights_sha256 else 'not reported'}; "
            f"identity checked in {seconds:.2f} s",
            {**info, "served": list(ident.served)}))
        checks.append(_demo(config, kb))
    return [*checks, _only_the_server(guard, config)]


def _only_the_server(guard: SocketGuard, config: Any) -> Check:
    """Nothing but the configured server was contacted while talking to it."""
    data = {"allowed": config.url.origin, "attempts": list(guard.attempts)}
    if guard.attempts:
        return Check("Offline with the server", FAIL, "network access other than the clinic "
                     f"server was attempted: {'; '.join(guard.attempts[:3])}", data)
    return Check("Offline with the server", OK, f"only {config.url.origin} was contacted; "
                 "every other address was refused while checking the server", data)


def _demo(config: Any, kb: Any) -> Check:
    """A typed presentation's explained differential and cited rationale through the
    server, timed (what one consultation costs the server)."""
    from osler.errors import INPUT_ERRORS
    from osler.reasoning.service import DdxService

    try:
        t0 = time.perf_counter()
        svc = DdxService.create(kb=kb, server=config, semantic=False)
        svc.rare = False
        t1 = time.perf_counter()
        diff = svc.run(text=DEMO_TEXT, age=58, sex="male", top=5, rationale=True)
        t2 = time.perf_counter()
        svc.engine.unload()
    except (*INPUT_ERRORS, OSError) as exc:
        return Check("Server differential", FAIL, f"a typed presentation: {exc}")
    top = diff.diagnoses[0].name if diff.diagnoses else "nothing"
    r = diff.rationale or {}
    if r.get("error"):
        return Check("Server differential", WARN, f"differential in {t2 - t1:.1f} s, but the "
                     f"rationale failed: {r['error']}", {"seconds": round(t2 - t1, 3)})
    return Check("Server differential", OK,
                 f"a typed presentation: explained differential and cited rationale in "
                 f"{t2 - t1:.1f} s through the server (connected in {t1 - t0:.1f} s; top: "
                 f"{top}; citations kept {r.get('citations_kept', 0)}, dropped "
                 f"{r.get('citations_dropped', 0)})",
                 {"seconds": round(t2 - t1, 3), "connect_seconds": round(t1 - t0, 3)})

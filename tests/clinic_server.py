"""A real clinic server for the tests: llama-cpp-python's OpenAI-compatible server on a loopback
port, with an API key, serving a tiny random Llama the tests write as GGUF (converted from the
same tiny Hugging Face model the in-process LLM tests build, so both engines can be compared).

`osler.reasoning.server` never imports this; it is test scaffolding for an external component.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SERVER_START_SECONDS = 120


def server_unavailable() -> str | None:
    """Why a llama.cpp server cannot run here (None when it can)."""
    try:
        import gguf  # noqa: F401
        import llama_cpp
        import llama_cpp.server.app  # noqa: F401
    except Exception as exc:  # ImportError, or a broken native library
        return (f"llama-cpp-python[server] and gguf are needed (pip install -e '.[dev]'): "
                f"{type(exc).__name__}: {exc}")
    return None


def require_server() -> None:
    why = server_unavailable()
    if why:
        pytest.skip(why)


def _permute(w, n_head: int):
    """HF Llama q/k rows -> llama.cpp's rotary layout (as llama.cpp's converter does)."""
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def write_gguf(hf_dir: Path, out: Path, add_bos: bool = True, perturb: float = 0.0,
               vocab: int | None = None) -> Path:
    """Convert the tiny HF Llama (llm_fixtures.build_tiny_llm) to an F32 GGUF file;
    `perturb` adds that much noise to the output layer (other weights, same everything else);
    `vocab` pads the vocabulary with unused tokens to that size (as large as a real model's:
    what a server's per-token work depends on)."""
    import gguf
    import numpy as np
    from safetensors.numpy import load_file

    cfg = json.loads((hf_dir / "config.json").read_text())
    tok = json.loads((hf_dir / "tokenizer.json").read_text())
    n_real = int(cfg["vocab_size"])
    n_vocab = max(n_real, vocab or 0)
    tokens = [f"[UNUSED{i}]" for i in range(n_vocab)]
    types = [int(gguf.TokenType.UNUSED)] * n_vocab
    for text, i in tok["model"]["vocab"].items():
        tokens[i], types[i] = text, int(gguf.TokenType.NORMAL)
    for added in tok.get("added_tokens", []):
        tokens[added["id"]], types[added["id"]] = added["content"], int(gguf.TokenType.CONTROL)
    merges = [m if isinstance(m, str) else " ".join(m) for m in tok["model"]["merges"]]
    ids = {t: i for i, t in enumerate(tokens)}
    heads, kv_heads = int(cfg["num_attention_heads"]), int(cfg["num_key_value_heads"])
    hidden, layers = int(cfg["hidden_size"]), int(cfg["num_hidden_layers"])
    rope = cfg.get("rope_theta") or (cfg.get("rope_parameters") or {}).get("rope_theta", 1e4)

    w = gguf.GGUFWriter(str(out), "llama")
    w.add_name("tiny-llama")
    w.add_context_length(int(cfg["max_position_embeddings"]))
    w.add_embedding_length(hidden)
    w.add_block_count(layers)
    w.add_feed_forward_length(int(cfg["intermediate_size"]))
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_layer_norm_rms_eps(float(cfg.get("rms_norm_eps", 1e-6)))
    w.add_rope_freq_base(float(rope))
    w.add_rope_dimension_count(hidden // heads)
    w.add_file_type(int(gguf.LlamaFileType.ALL_F32))
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(ids["<s>"])
    w.add_eos_token_id(ids["</s>"])
    w.add_unk_token_id(ids["<unk>"])
    w.add_pad_token_id(ids["<pad>"])
    w.add_add_bos_token(add_bos)
    w.add_add_eos_token(False)

    weights = load_file(str(hf_dir / "model.safetensors"))
    names = {"model.embed_tokens.weight": "token_embd.weight",
             "model.norm.weight": "output_norm.weight", "lm_head.weight": "output.weight"}
    per_layer = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q",
                 "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
                 "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm",
                 "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
                 "mlp.down_proj": "ffn_down"}
    for i in range(layers):
        for hf, gg in per_layer.items():
            names[f"model.layers.{i}.{hf}.weight"] = f"blk.{i}.{gg}.weight"
    if "lm_head.weight" not in weights:  # tied embeddings
        weights["lm_head.weight"] = weights["model.embed_tokens.weight"]
    for hf, gg in names.items():
        t = np.ascontiguousarray(weights[hf].astype(np.float32))
        if hf.endswith("q_proj.weight"):
            t = _permute(t, heads)
        elif hf.endswith("k_proj.weight"):
            t = _permute(t, kv_heads)
        elif hf == "lm_head.weight" and perturb:
            t = t + np.random.default_rng(1).normal(0, perturb, t.shape).astype(np.float32)
        if hf in ("model.embed_tokens.weight", "lm_head.weight") and n_vocab > n_real:
            pad = np.random.default_rng(2).normal(0, 0.02, (n_vocab - n_real, t.shape[1]))
            t = np.concatenate([t, pad.astype(np.float32)])
        w.add_tensor(gg, np.ascontiguousarray(t))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LlamaServer:
    """One `python -m llama_cpp.server` process on 127.0.0.1."""

    model: Path
    api_key: str = field(default_factory=lambda: "test-" + secrets.token_hex(8), repr=False)
    port: int = field(default_factory=free_port)
    log: Path | None = None
    extra: tuple[str, ...] = ()
    scheme: str = "http"
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self, ca_file: Path | None = None) -> LlamaServer:
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model),
               "--host", "127.0.0.1", "--port", str(self.port), "--api_key", self.api_key,
               "--logits_all", "true", "--interrupt_requests", "false", "--n_ctx", "8192",
               "--n_threads", "1", "--verbose", "false", *self.extra]
        log = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        import ssl

        ctx = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
        return self._wait_ready("llama_cpp.server", ctx)

    def _wait_ready(self, name: str, ctx=None) -> LlamaServer:
        """Until GET /v1/models answers with the key (the model is loaded), or fail."""
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log.read_text(errors="replace")[-2000:] if self.log else ""
                raise RuntimeError(f"{name} exited with {self.proc.returncode}: {tail}")
            req = urllib.request.Request(f"{self.url}/v1/models",
                                         headers={"Authorization": f"Bearer {self.api_key}"})
            try:
                with urllib.request.urlopen(req, timeout=2, context=ctx) as resp:
                    if resp.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{name} did not answer within {SERVER_START_SECONDS} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)

    def kill(self) -> None:
        """SIGKILL: the server dies as a crashed or unplugged machine would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def llama_server_binary() -> Path | None:
    """llama.cpp's own `llama-server`: $OSLER_LLAMA_SERVER, else the copy `.ci/run` builds
    from the same llama.cpp that llama-cpp-python vendors (cached per version), else PATH."""
    if os.environ.get("OSLER_LLAMA_SERVER"):
        path = Path(os.environ["OSLER_LLAMA_SERVER"])
        return path if path.is_file() and os.access(path, os.X_OK) else None
    try:
        import llama_cpp

        version = llama_cpp.__version__
    except Exception:  # no llama-cpp-python: look on PATH only
        version = ""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    built = cache / "osler-ci" / f"llama-server-{version}" / "llama-server"
    if version and built.is_file():
        return built
    found = shutil.which("llama-server")
    return Path(found) if found else None


def require_llama_server() -> Path:
    require_server()  # gguf, to write the model
    binary = llama_server_binary()
    if binary is None:
        pytest.skip("llama.cpp's llama-server binary not found (.ci/run builds it; or set "
                    "OSLER_LLAMA_SERVER)")
    return binary


@dataclass
class CppLlamaServer(LlamaServer):
    """One llama.cpp `llama-server` process on 127.0.0.1 (4 slots, API key)."""

    binary: Path | None = None
    slots: int = 4

    def start(self, ca_file: Path | None = None) -> CppLlamaServer:
        binary = self.binary or require_llama_server()
        cmd = [str(binary), "-m", str(self.model), "--host", "127.0.0.1",
               "--port", str(self.port), "--api-key", self.api_key, "-np", str(self.slots),
               "-c", str(2048 * self.slots), "-t", "1", "--no-webui", *self.extra]
        log = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        return self._wait_ready("llama-server")  # type: ignore[return-value]


@dataclass(frozen=True)
class TinyModels:
    hf_dir: Path  # the HF folder (tokenizer adds <s>): the in-process engine's model
    gguf: Path  # the same weights and tokenizer as GGUF: the server's model


def build_models(root: Path, vocab: int | None = None) -> TinyModels:
    from tests.reasoning.llm_fixtures import build_tiny_llm

    hf = build_tiny_llm(root / "tiny-llama-hf", bos=True)
    return TinyModels(hf, write_gguf(hf, root / "tiny-llama-F32.gguf", vocab=vocab))


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> TinyModels:
    require_server()
    return build_models(tmp_path_factory.mktemp("clinic-models"))


@pytest.fixture(scope="session")
def clinic_server(tiny_models, tmp_path_factory):
    """A real llama-cpp-python server with an API key, started once per test session."""
    log = tmp_path_factory.mktemp("clinic-server") / "server.log"
    server = LlamaServer(tiny_models.gguf, log=log).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def cpp_server(tiny_models, tmp_path_factory):
    """A real llama.cpp llama-server with an API key, started once per test session."""
    binary = require_llama_server()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    server = CppLlamaServer(tiny_models.gguf, log=log, binary=binary).start()
    yield server
    server.stop()


def run_windows(make_service, cases, **run) -> tuple[dict[int, object], dict[int, list[str]]]:
    """Each (findings, age, sex) case in its own thread and service, as separate windows or
    workstations, started together: their differentials (or exceptions) and, with
    rationale=True, each one's streamed tokens."""
    import threading

    results: dict[int, object] = {}
    streams: dict[int, list[str]] = {i: [] for i in range(len(cases))}
    barrier = threading.Barrier(len(cases))

    def window(i: int) -> None:
        svc = make_service()
        f, age, sex = cases[i]
        barrier.wait()
        try:
            if run.get("rationale"):
                results[i] = svc.run_findings(f, age, sex, on_token=streams[i].append, **run)
            else:
                results[i] = svc.run_findings(f, age, sex, **run)
        except Exception as exc:  # reported by the caller
            results[i] = exc

    threads = [threading.Thread(target=window, args=(i,)) for i in range(len(cases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return results, streams

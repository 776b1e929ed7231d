"""What the model runtime can use on this machine: CUDA GPUs and bitsandbytes' backend.

For the self-check and the model manager; torch and bitsandbytes are imported inside the
function, so importing this module stays light.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class GpuDevice:
    """One CUDA device as torch sees it."""

    index: int
    name: str
    total_bytes: int
    free_bytes: int | None = None
    capability: str = ""


@dataclass(frozen=True, slots=True)
class GpuReport:
    """torch's CUDA view and whether bitsandbytes can quantize on the GPU."""

    torch_version: str
    cuda_available: bool
    cuda_version: str | None = None
    devices: tuple[GpuDevice, ...] = ()
    bnb_version: str | None = None
    bnb_backend: str | None = None  # "CUDA", "CPU", ... as bitsandbytes reports it
    bnb_cuda: bool = False
    errors: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "torch": self.torch_version, "cuda_available": self.cuda_available,
            "cuda_version": self.cuda_version,
            "devices": [{"index": d.index, "name": d.name, "total_bytes": d.total_bytes,
                         "free_bytes": d.free_bytes, "capability": d.capability}
                        for d in self.devices],
            "bitsandbytes": self.bnb_version, "bitsandbytes_backend": self.bnb_backend,
            "bitsandbytes_cuda": self.bnb_cuda, "errors": list(self.errors),
        }


def gpu_report(probe_bitsandbytes: bool = True) -> GpuReport:
    """Ask torch (and bitsandbytes) what they can use; never raises for a broken driver."""
    import torch

    errors: list[str] = []
    try:
        available = bool(torch.cuda.is_available())
    except Exception as exc:  # a broken driver must not stop the app
        available = False
        errors.append(f"torch.cuda.is_available() failed: {exc}")
    devices: list[GpuDevice] = []
    if available:
        for i in range(torch.cuda.device_count()):
            try:
                props = torch.cuda.get_device_properties(i)
                free: int | None
                try:
                    free, _total = torch.cuda.mem_get_info(i)
                except Exception:
                    free = None
                devices.append(GpuDevice(i, props.name, int(props.total_memory), free,
                                         f"{props.major}.{props.minor}"))
            except Exception as exc:
                errors.append(f"GPU {i}: {exc}")
    bnb_version = bnb_backend = None
    bnb_cuda = False
    if probe_bitsandbytes:
        quiet = logging.getLogger("bitsandbytes")
        level = quiet.level
        quiet.setLevel(logging.ERROR)  # its CPU backend warns about an optional extra
        try:
            import bitsandbytes
            from bitsandbytes import cextension

            bnb_version = getattr(bitsandbytes, "__version__", "?")
            bnb_backend = str(getattr(cextension, "BNB_BACKEND", "") or "") or None
            lib = getattr(cextension, "lib", None)
            bnb_cuda = available and (bnb_backend == "CUDA"
                                      or type(lib).__name__ == "CudaBNBNativeLibrary")
        except Exception as exc:
            errors.append(f"bitsandbytes: {type(exc).__name__}: {exc}")
        finally:
            quiet.setLevel(level)
    return GpuReport(torch_version=str(torch.__version__), cuda_available=available,
                     cuda_version=getattr(torch.version, "cuda", None), devices=tuple(devices),
                     bnb_version=bnb_version, bnb_backend=bnb_backend, bnb_cuda=bnb_cuda,
                     errors=tuple(errors))

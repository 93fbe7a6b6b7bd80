"""Which device and dtype run a model, and where its T5 text encoder lives."""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import torch

from app.core.engine_options import DeviceChoice, EngineOptions, Precision, TextEncoderPlacement
from app.core.errors import InvalidRequestError, ModelLoadError

GIB = 1024**3
# Memory beyond the weights that a 1K–2K job needs on the GPU; below it the text encoder moves to the CPU.
GPU_WORKING_HEADROOM = 6 * GIB

_MISSING = {
    DeviceChoice.CUDA: "torch sees no CUDA GPU; install a CUDA build of torch (README: A GPU build of torch) "
    "on a machine with an NVIDIA GPU, or choose auto or cpu",
    DeviceChoice.MPS: "Apple's GPU (MPS) exists only on Apple-silicon Macs; choose auto or cpu",
}
_PRECISION_DTYPES = {Precision.FP32: torch.float32, Precision.FP16: torch.float16, Precision.BF16: torch.bfloat16}


@dataclass(frozen=True)
class Placement:
    """Where and in what precision a model runs."""

    device: torch.device
    dtype: torch.dtype
    text_encoder_device: torch.device
    text_encoder_8bit: bool = False


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()


def pick_device(choice: DeviceChoice = DeviceChoice.AUTO, index: int | None = None) -> torch.device:
    """CUDA, then MPS, then CPU for auto; an explicit choice (and CUDA GPU index) must be available here."""
    if choice is DeviceChoice.AUTO:
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    available = {
        DeviceChoice.CUDA: torch.cuda.is_available(),
        DeviceChoice.MPS: _mps_available(),
        DeviceChoice.CPU: True,
    }[choice]
    if not available:
        raise InvalidRequestError(f"device {choice.value!r} is not available on this machine: {_MISSING[choice]}")
    if choice is DeviceChoice.CUDA and index is not None:
        count = torch.cuda.device_count()
        if index >= count:
            raise InvalidRequestError(f"device 'cuda:{index}' does not exist: this machine has GPUs 0 to {count - 1}")
        return torch.device("cuda", index)
    return torch.device(choice.value)


@cache
def cpu_has_fast_bf16() -> bool:
    """True when the CPU has native bf16 matrix instructions (AVX512-BF16 or AMX), where bf16 beats fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def pick_dtype(device: torch.device, precision: Precision = Precision.AUTO) -> torch.dtype:
    """bf16 where the device supports it, else fp16 on GPUs; on CPU bf16 only where it is fast, else fp32."""
    if precision is not Precision.AUTO:
        return _PRECISION_DTYPES[precision]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16  # bf16 on MPS needs macOS 14+ and is slower than fp16 there
    return torch.bfloat16 if cpu_has_fast_bf16() else torch.float32


def device_total_memory(device: torch.device) -> int:
    """Bytes of memory the device has in all (host RAM for CPU and MPS, whose memory is unified)."""
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).total_memory
    return host_memory()[0]


def device_free_memory(device: torch.device) -> int:
    """Bytes this process can still allocate on the device, counting memory torch has cached but not used."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free + torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
    return host_memory()[1]


def host_memory() -> tuple[int, int]:
    """(total, available) bytes of host RAM, without psutil."""
    if sys.platform.startswith("linux"):
        fields: dict[str, int] = {}
        try:
            for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
                key, _, rest = line.partition(":")
                fields[key] = int(rest.split()[0]) * 1024
            return fields["MemTotal"], fields.get("MemAvailable", fields["MemTotal"] // 2)
        except (OSError, KeyError, ValueError, IndexError):
            pass
    if sys.platform == "win32":
        return _windows_memory()
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 16 * GIB
    return total, total // 2  # macOS and others: no cheap "available" figure; assume half is usable


def _windows_memory() -> tuple[int, int]:
    class _Status(ctypes.Structure):
        _fields_ = [
            ("length", ctypes.c_ulong),
            ("load", ctypes.c_ulong),
            ("total_phys", ctypes.c_ulonglong),
            ("avail_phys", ctypes.c_ulonglong),
            ("total_page", ctypes.c_ulonglong),
            ("avail_page", ctypes.c_ulonglong),
            ("total_virtual", ctypes.c_ulonglong),
            ("avail_virtual", ctypes.c_ulonglong),
            ("avail_extended", ctypes.c_ulonglong),
        ]

    status = _Status()
    status.length = ctypes.sizeof(_Status)
    ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status))  # type: ignore[attr-defined, unused-ignore]  # Windows only
    return int(status.total_phys), int(status.avail_phys)


def folder_bytes(folder: Path) -> int:
    """Size of the weight files under a folder (0 when it does not exist)."""
    if not folder.is_dir():
        return 0
    suffixes = {".safetensors", ".bin", ".pth", ".pt", ".ckpt"}
    return sum(p.stat().st_size for p in folder.rglob("*") if p.suffix in suffixes and p.is_file())


def pick_text_encoder(
    placement: TextEncoderPlacement, device: torch.device, text_encoder_bytes: int, other_weights_bytes: int
) -> tuple[torch.device, bool]:
    """(device, 8-bit) for the T5 encoder: with the model when memory allows, else on the CPU.

    Auto keeps the encoder on a GPU only when the encoder, the other weights and a working headroom all fit.
    """
    if placement is TextEncoderPlacement.INT8:
        if device.type != "cuda":
            raise InvalidRequestError("the 8-bit text encoder needs a CUDA GPU; choose the CPU placement instead")
        if importlib.util.find_spec("bitsandbytes") is None:
            raise ModelLoadError("the 8-bit text encoder needs the bitsandbytes package: pip install bitsandbytes")
        return device, True
    if placement is TextEncoderPlacement.CPU or device.type == "cpu":
        return torch.device("cpu"), False
    if placement is TextEncoderPlacement.DEVICE:
        return device, False
    fits = text_encoder_bytes + other_weights_bytes + GPU_WORKING_HEADROOM <= device_total_memory(device)
    return (device if fits else torch.device("cpu")), False


def resolve_placement(options: EngineOptions, model_dir: Path | None = None) -> Placement:
    """Apply the engine options to this machine (and the model's size, for the text encoder's place)."""
    device = pick_device(options.device, options.device_index)
    dtype = pick_dtype(device, options.precision)
    text_encoder_bytes = folder_bytes(model_dir / "text_encoder") if model_dir else 0
    other_bytes = folder_bytes(model_dir / "transformer") + folder_bytes(model_dir / "vae") if model_dir else 0
    te_device, te_8bit = pick_text_encoder(options.text_encoder, device, text_encoder_bytes, other_bytes)
    return Placement(device, dtype, te_device, te_8bit)

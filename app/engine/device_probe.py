"""Which devices this machine can sample on, found without importing torch, so Settings opens at once."""

from __future__ import annotations

import ast
import ctypes.util
import importlib.util
import platform
import shutil
import sys
from pathlib import Path

from app.core.engine_options import DeviceChoice


def _torch_build() -> dict[str, str | None] | None:
    """The `cuda` and `hip` versions torch was built with, read from torch/version.py (None when unreadable)."""
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    try:
        tree = ast.parse(Path(spec.origin).with_name("version.py").read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return None  # a frozen bundle keeps no source: assume nothing
    found: dict[str, str | None] = {}
    for node in tree.body:
        target: ast.expr | None = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        value = getattr(node, "value", None)
        if isinstance(target, ast.Name) and isinstance(value, ast.Constant):
            constant = value.value
            found[target.id] = constant if constant is None or isinstance(constant, str) else str(constant)
    return found


def _gpu_driver_found(hip: bool) -> bool:
    if hip:
        return Path("/dev/kfd").exists()
    if sys.platform.startswith("linux"):
        return Path("/proc/driver/nvidia/version").exists()
    return bool(ctypes.util.find_library("nvcuda") or shutil.which("nvidia-smi"))


def _cuda_reason() -> str:
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "cuda"):  # already imported by the engine: ask it directly
        return "" if torch.cuda.is_available() else "no usable NVIDIA GPU found"
    build = _torch_build()
    if build is None:
        return ""
    hip = bool(build.get("hip"))
    if not build.get("cuda") and not hip:
        return "this PyTorch has no CUDA support (a CPU-only build)"
    return "" if _gpu_driver_found(hip) else "no GPU driver found"


def _mps_reason() -> str:
    if sys.platform == "darwin" and platform.machine() == "arm64":
        return ""
    return "only on Macs with Apple silicon"


def device_availability() -> dict[DeviceChoice, str]:
    """Each device choice with '' when it can be used here, else why it cannot."""
    return {
        DeviceChoice.AUTO: "",
        DeviceChoice.CUDA: _cuda_reason(),
        DeviceChoice.MPS: _mps_reason(),
        DeviceChoice.CPU: "",
    }

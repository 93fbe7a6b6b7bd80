"""Give freed tensors' memory back to the device, so the next job or load can use it."""

from __future__ import annotations

import gc

import torch


def free_cached_memory(device: torch.device) -> None:
    """Collect reference cycles, then empty the device's caching allocator (CUDA, MPS; the CPU has none)."""
    gc.collect()
    if device.type == "cuda" and torch.cuda.is_available():
        torch.cuda.empty_cache()
    elif device.type == "mps":
        torch.mps.empty_cache()

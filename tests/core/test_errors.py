"""Recognising errors by kind across libraries."""

from __future__ import annotations

from app.core.errors import is_out_of_memory


def test_out_of_memory_is_recognised_from_every_source():
    """Python's MemoryError, torch's OutOfMemoryError by name and 'out of memory' messages; nothing else."""
    assert is_out_of_memory(MemoryError())
    assert is_out_of_memory(type("OutOfMemoryError", (RuntimeError,), {})("CUDA error"))
    assert is_out_of_memory(RuntimeError("MPS backend out of memory (MPS allocated: 9 GB)"))
    assert not is_out_of_memory(RuntimeError("shape mismatch"))

"""The device probe that Settings uses: it answers without importing torch, and agrees with torch."""

from __future__ import annotations

import sys

import pytest
import torch

from app.core.engine_options import DeviceChoice
from app.engine.device_probe import device_availability


def test_probe_without_torch_agrees_with_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read from torch's build file alone, CUDA is offered exactly when torch can use it; auto and CPU always."""
    monkeypatch.delitem(sys.modules, "torch")
    reasons = device_availability()
    assert "torch" not in sys.modules
    monkeypatch.undo()
    assert (reasons[DeviceChoice.CUDA] == "") == torch.cuda.is_available()
    assert reasons[DeviceChoice.AUTO] == reasons[DeviceChoice.CPU] == ""
    mps = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    assert (reasons[DeviceChoice.MPS] == "") == mps

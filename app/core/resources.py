"""Locate the shipped resources folder, from a source checkout or inside a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path

DEMO_MODEL_NAME = "demo"


def resources_dir() -> Path:
    """The `resources/` folder: beside the bundle's executable when frozen, else at the repo root."""
    bundle_root = getattr(sys, "_MEIPASS", None)
    if bundle_root:
        return Path(bundle_root) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def demo_model_dir() -> Path:
    """The embedded demo model, a diffusers pipeline folder."""
    return resources_dir() / "demo-model"

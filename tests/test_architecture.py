"""The layer rules (core ← model ← engine ← ui; the store on core only; no torch in the ui) hold."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("lint-imports") is None, reason="import-linter is part of the test extra")
def test_import_contracts_are_kept():
    """Every import-linter contract in pyproject.toml is kept."""
    run = subprocess.run(["lint-imports"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout

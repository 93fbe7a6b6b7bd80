"""The layer rules (core ← model ← engine ← ui; the store on core only; no torch in the ui) hold."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


# lint-imports as the running interpreter's module, so the check runs from an activated venv or not.
LINT_IMPORTS = [sys.executable, "-c", "import sys, importlinter.cli as c; sys.exit(c.lint_imports_command())"]


@pytest.mark.skipif(importlib.util.find_spec("importlinter") is None, reason="import-linter is part of the test extra")
def test_import_contracts_are_kept():
    """Every import-linter contract in pyproject.toml is kept."""
    run = subprocess.run(LINT_IMPORTS, cwd=ROOT, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is part of the test extra")
def test_the_type_checker_finds_nothing_in_app():
    """mypy over app/ (configured in pyproject.toml) is clean; its cache in the temp folder keeps reruns fast."""
    cache = Path(tempfile.gettempdir()) / "pixart-studio-mypy-cache"
    command = [sys.executable, "-m", "mypy", "--cache-dir", str(cache), "--no-error-summary"]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr

"""`pixart-studio --self-test` from source: the proof that an install is complete."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app.core.resources import demo_model_dir


@pytest.mark.skipif(not (demo_model_dir() / "model_index.json").exists(), reason="the demo model is not built")
def test_self_test_passes_from_source(studio_home):
    """The self-test loads the demo model, paints a non-blank image, reads it back, and exits 0."""
    run = subprocess.run(
        [sys.executable, "-m", "app", "--self-test"], capture_output=True, text=True, timeout=300, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "self-test passed" in run.stdout
    assert run.stdout.count("  ok  ") == 3
    assert "Loading weights" not in run.stdout + run.stderr  # no library progress bars among the check lines


def test_self_test_fails_loudly_without_the_demo_model(monkeypatch, tmp_path):
    """A bundle missing its demo model exits non-zero and says what is missing."""
    from app import self_test
    from app.core import resources

    monkeypatch.setattr(resources, "resources_dir", lambda: tmp_path / "resources")
    assert self_test.run_self_test() == 1

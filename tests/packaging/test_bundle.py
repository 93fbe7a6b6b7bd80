"""The installed bundle: built with PyInstaller from this checkout, it passes its own --self-test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.bundle


@pytest.mark.skipif(
    os.environ.get("PIXART_STUDIO_TEST_BUNDLE") != "1",
    reason="builds the bundle (minutes); set PIXART_STUDIO_TEST_BUNDLE=1",
)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux bundle is built and run here")
def test_linux_bundle_builds_and_passes_its_self_test(tmp_path):
    """packaging/build.py makes a one-folder bundle whose executable passes --self-test without Python on PATH."""
    pytest.importorskip("PyInstaller", reason="install the packaging extra: pip install -e '.[packaging]'")
    build = subprocess.run([sys.executable, "packaging/build.py"], cwd=ROOT, check=False)
    assert build.returncode == 0
    executable = ROOT / "dist" / "pixart-studio" / "pixart-studio"
    env = {
        "PATH": "/usr/bin:/bin",
        "PIXART_STUDIO_HOME": str(tmp_path),
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(tmp_path),
    }
    run = subprocess.run([str(executable), "--self-test"], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "self-test passed" in run.stdout
    assert not any((ROOT / "dist" / "pixart-studio").rglob("*.db")), "the bundle wrote user data inside itself"

    # The demo model's training code is research: neither its modules nor its files are in the bundle (#27).
    listing = subprocess.run(
        [sys.executable, "-m", "PyInstaller.utils.cliutils.archive_viewer", "-r", "-b", str(executable)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    modules = {line.strip() for line in listing.splitlines()}
    assert "app.cli" in modules and "app.engine.pipeline" in modules
    assert not [name for name in modules if name.startswith(("demo_training", "app.train"))]
    files = [str(p) for p in (ROOT / "dist" / "pixart-studio").rglob("*")]
    assert not [name for name in files if "demo_training" in name or "app/train" in name]

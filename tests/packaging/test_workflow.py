"""The CI workflow that builds the Windows installer and the .deb: valid for GitHub Actions, and doing those steps."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml  # transformers depends on PyYAML

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "bundles.yml"


def test_bundles_workflow_passes_the_github_workflow_schema():
    """check-jsonschema with its vendored GitHub workflow schema (offline) accepts the file."""
    run = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def _steps(job: dict) -> str:
    return "\n".join(
        str(step.get("run", "")) + str(step.get("uses", "")) + str(step.get("with", "")) for step in job["steps"]
    )


def test_windows_job_builds_self_tests_and_keeps_the_bundle_and_installer():
    """On a Windows runner: pinned torch, the bundle with --self-test, Inno Setup, both kept as artifacts."""
    job = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["windows"]
    assert job["runs-on"].startswith("windows")
    steps = _steps(job)
    for needed in ("torch==2.13.0", "packaging/build.py --self-test", "ISCC.exe", "pixart-studio.iss"):
        assert needed in steps
    assert "PixArtStudio-*-setup.exe" in steps and "dist/pixart-studio/" in steps


def test_linux_job_builds_the_deb_installs_it_and_runs_the_installed_command():
    """Beside it, Debian 12 builds the bundle and .deb, installs the package and self-tests the command."""
    job = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["linux"]
    assert "bookworm" in job["container"]
    steps = _steps(job)
    for needed in (
        "--index-url https://download.pytorch.org/whl/cpu",
        "--self-test --archive --deb",
        "apt-get install -y ./dist/pixart-studio_",
        "pixart-studio --self-test",
        "_amd64.deb",
    ):
        assert needed in steps


def test_readme_lists_the_libraries_the_linux_job_installs_for_the_deb():
    """The README's system libraries for a minimal Linux are the ones the CI job installs before build_deb.py."""
    job = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["linux"]
    apt = next(step["run"] for step in job["steps"] if "dpkg-dev" in str(step.get("run", "")))
    in_ci = {word for word in apt.split() if word.startswith("lib")}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("sudo apt install libegl1", 1)[1].split("```", 1)[0]
    in_readme = {"libegl1"} | {word for word in block.split() if word.startswith("lib")}
    assert in_readme == in_ci

"""The machine a run measured, peak resident memory, and child processes run under a memory and time guard."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

GIB = 1024**3
MIB = 1024**2
_POLL_S = 0.1
REPO_ROOT = Path(__file__).resolve().parents[1]  # children import `benchmarks` and `app` from here


class ChildError(RuntimeError):
    """A measuring child process failed, ran out of time, or crossed its memory guard."""


def _status_kib(field: str, pid: int | str = "self") -> int:
    """A `VmXXX: n kB` line of /proc/<pid>/status, in KiB (0 where /proc is missing, as off Linux)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return 0
    found = re.search(rf"^{field}:\s+(\d+)", text, re.MULTILINE)
    return int(found.group(1)) if found else 0


def current_rss() -> int:
    """Bytes of this process now resident in RAM."""
    return _status_kib("VmRSS") * 1024


def peak_rss() -> int:
    """Bytes of this process's peak resident set since start or the last `reset_peak_rss`."""
    return _status_kib("VmHWM") * 1024


def reset_peak_rss() -> None:
    """Start a new peak: Linux resets VmHWM to the current RSS when 5 is written to clear_refs."""
    Path("/proc/self/clear_refs").write_text("5", encoding="ascii")


def available_memory() -> int:
    """Bytes of RAM the kernel says can be allocated without swapping (MemAvailable)."""
    text = Path("/proc/meminfo").read_text(encoding="utf-8")
    found = re.search(r"^MemAvailable:\s+(\d+)", text, re.MULTILINE)
    return int(found.group(1)) * 1024 if found else 0


def run_child(
    module: str,
    args: list[str],
    timeout_s: float,
    memory_limit: int | None = None,
    threads: int = 1,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run `python -m module args`, killing it past `timeout_s` or `memory_limit` resident bytes; its last JSON line.

    The child prints one JSON object as its last stdout line. Resident memory is polled, so a runaway child is
    stopped before it can push the machine into swap or the OOM killer.
    """
    threads_env = {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path, **threads_env, **(env or {})}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        command = [sys.executable, "-m", module, *args]
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=REPO_ROOT)
        started, reason = time.monotonic(), ""
        while child.poll() is None:
            rss = _status_kib("VmRSS", child.pid) * 1024
            if memory_limit is not None and rss > memory_limit:
                reason = f"resident memory passed the {memory_limit / GIB:.1f} GiB guard"
            elif time.monotonic() - started > timeout_s:
                reason = f"took longer than {timeout_s:.0f} s"
            if reason:
                child.kill()
                child.wait()
                raise ChildError(f"{module} {' '.join(args)}: {reason}")
            time.sleep(_POLL_S)
        out.seek(0)
        err.seek(0)
        lines = [line for line in out.read().splitlines() if line.strip()]
        if child.returncode != 0 or not lines:
            tail = " ".join(err.read().strip().splitlines()[-3:])[-500:]
            raise ChildError(f"{module} {' '.join(args)} exited with {child.returncode}: {tail}")
    return json.loads(lines[-1])


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or platform.machine()
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return found.group(1).strip() if found else platform.machine()


def _git_commit() -> str:
    try:
        found = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except OSError:
        return "unknown"
    return found.stdout.strip() or "unknown"


def describe_machine(device: torch.device) -> dict[str, Any]:
    """CPU, cores, memory, load, library versions and the accelerator, for the JSON file and the doc."""
    memory = re.search(r"^MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text(encoding="utf-8"), re.MULTILINE)
    described: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "memory_gib": round(int(memory.group(1)) / 1024**2, 1) if memory else None,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "diffusers": _version("diffusers"),
        "transformers": _version("transformers"),
        "pyside6": _version("PySide6") if _version("PySide6") != "not installed" else _version("PySide6-Essentials"),
        "git_commit": _git_commit(),
        "device": str(device),
        "device_name": _cpu_model(),
    }
    if device.type == "cuda":
        properties = torch.cuda.get_device_properties(device)
        described["device_name"] = properties.name
        described["device_memory_gib"] = round(properties.total_memory / GIB, 1)
        described["cuda"] = torch.version.cuda
    return described

"""What every benchmark family shares: the run context, result rows, round-robin timing and the table."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch


@dataclass
class Context:
    """One benchmark run: where it runs, how thoroughly, and a scratch folder and cache shared by the families."""

    device: torch.device
    quick: bool
    smoke: bool  # tiny sizes that only prove the harness works (the test suite); the numbers mean nothing
    work: Path
    threads: int = 1  # torch threads on a CPU
    log: Callable[[str], None] = print
    cache: dict[str, Any] = field(default_factory=dict)
    # A long family hands over the rows it has so far, so a run stopped by a time limit keeps them.
    checkpoint: Callable[[list[Row]], None] = lambda rows: None

    @property
    def is_cuda(self) -> bool:
        """True on a CUDA GPU, where the GPU set runs."""
        return self.device.type == "cuda"

    @property
    def half_dtype(self) -> torch.dtype:
        """The GPU sampling precision: bf16 where supported, else fp16 (fp32 on the CPU)."""
        if not self.is_cuda:
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16

    def repeats(self, full: int, quick: int) -> int:
        """Timed repeats for this run's thoroughness (1 when smoke-testing)."""
        return 1 if self.smoke else (quick if self.quick else full)

    @property
    def clock_name(self) -> str:
        """What the timings measure: CPU time of this process on a CPU, wall time on a GPU."""
        return "wall time" if self.is_cuda else f"process CPU time, {self.threads} torch thread(s)"

    def clock(self) -> float:
        """Seconds on this run's clock.

        On a CPU shared with other work, wall time measures the neighbours as much as the code; the CPU time
        the process itself spent is steady (a few percent between repeats) and is what the work costs.
        """
        return time.perf_counter() if self.is_cuda else time.process_time()

    def sync(self) -> None:
        """Wait for queued GPU work, so a clock reading covers it."""
        if self.is_cuda:
            torch.cuda.synchronize(self.device)

    def time_once(self, action: Callable[[], object]) -> float:
        """Seconds one call of `action` takes on this run's clock, queued device work included."""
        self.sync()
        start = self.clock()
        action()
        self.sync()
        return self.clock() - start


@dataclass
class Row:
    """One line of the results table; `data` keeps the raw numbers for the JSON file."""

    family: str
    name: str
    value: float | None
    unit: str
    compare: str = ""  # what the value is set against, in words
    goal: str = ""
    met: bool | None = None  # None: no goal, or the goal could not be judged
    skipped: str = ""  # why the measurement did not run
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def skip(cls, family: str, name: str, reason: str) -> Row:
        """A measurement that was not taken, with the reason."""
        return cls(family, name, None, "", skipped=reason)

    @property
    def status(self) -> str:
        """skipped / ok / MISSED, or empty when there is no goal."""
        if self.skipped:
            return "skipped"
        if self.met is None:
            return ""
        return "ok" if self.met else "MISSED"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; non-finite numbers become null."""
        return {**_finite(asdict(self)), "status": self.status}


def _finite(value: Any) -> Any:
    """`value` with NaN and infinities (at any depth) replaced by None, which JSON can hold."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def alternate(
    ctx: Context, actions: dict[str, Callable[[], object]], repeats: int, warmup: int
) -> dict[str, list[float]]:
    """Time each action `repeats` times round-robin, rotating the order each round, so drifting load hits all alike."""
    names = list(actions)
    for _ in range(warmup):
        for name in names:
            actions[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(ctx.time_once(actions[name]))
    return times


def median(values: list[float]) -> float:
    """The median (nan for no values)."""
    return statistics.median(values) if values else math.nan


def paired_ratios(numerators: list[float], denominators: list[float]) -> list[float]:
    """Round-by-round ratios of two alternated timings."""
    return [a / b for a, b in zip(numerators, denominators, strict=True)]


def in_memory_units(size: int) -> tuple[float, str]:
    """A byte count as (value, "GiB") from 1 GiB up, else (value, "MiB")."""
    return (size / 1024**3, "GiB") if abs(size) >= 1024**3 else (size / 1024**2, "MiB")


def format_value(value: float | None, unit: str) -> str:
    """A number with its unit, rounded for reading."""
    if value is None or not math.isfinite(value):
        return "—"
    if unit == "×":
        return f"{value:.2f}×"
    if unit == "%":
        return f"{value:.0f}%"
    if unit == "count":
        return f"{value:,.0f}"
    if unit in ("s", "ms"):
        return f"{value:.3g} {unit}" if abs(value) < 1000 else f"{value:,.0f} {unit}"
    if unit in ("GiB", "MiB"):
        return f"{value:,.2f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    return f"{value:.4g} {unit}".strip()


def format_table(rows: list[Row]) -> str:
    """The results as a Markdown table (also readable in a terminal)."""
    header = ("family", "measurement", "value", "compared with", "goal", "status")
    lines = [header]
    for row in rows:
        compare = row.compare if not row.skipped else row.skipped
        lines.append((row.family, row.name, format_value(row.value, row.unit), compare, row.goal, row.status))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) + " |" for line in lines]
    text.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(text)

"""`python -m benchmarks [--quick] [--device cpu|cuda] [--json FILE] [--only NAME...]`: one table, one JSON file."""

from __future__ import annotations

import argparse
import importlib
import json
import shlex
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import torch

from benchmarks.harness import Context, Row, format_table
from benchmarks.system import describe_machine

DESCRIPTION = "Run PixArt Studio's benchmarks, print the results table and optionally save it as JSON."
# Family name → module with `run(ctx) -> list[Row]`, in the order they run.
FAMILIES: dict[str, str] = {
    "kv": "benchmarks.kv_bench",
    "engine": "benchmarks.engine_bench",
    "memory": "benchmarks.memory_bench",
    "app": "benchmarks.app_bench",
    "limit": "benchmarks.limit_bench",
    "levers": "benchmarks.levers_bench",
    "remote": "benchmarks.remote_bench",
    "farm": "benchmarks.farm_bench",
    "image": "benchmarks.image_bench",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; --device defaults to CUDA when there is one."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=DESCRIPTION)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and sizes (the CPU set: < 10 minutes)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--json", type=Path, help="write the results and the machine description to this file")
    parser.add_argument(
        "--only", nargs="+", choices=list(FAMILIES), metavar="NAME", help=f"among {', '.join(FAMILIES)}"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads on a CPU (default 1: steady timings on a shared machine)"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the harness runs, measures nothing")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: this machine has no CUDA GPU that torch can use; run with --device cpu")
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    return args


def _log_since(started: float):
    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f} s] {message}", file=sys.stderr, flush=True)

    return log


def main(argv: list[str] | None = None) -> int:
    """Run the chosen families; 1 when one of them crashed (goals missed still exit 0: they are results)."""
    args = parse_args(argv)
    device = torch.device(args.device)
    threads_before = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    try:
        return _run(args, device, argv)
    finally:
        torch.set_num_threads(threads_before)  # callers in the same process (tests) keep their setting


def _run(args: argparse.Namespace, device: torch.device, argv: list[str] | None) -> int:
    """Run the families, print the table and write the report."""
    started, started_at = time.perf_counter(), datetime.now(timezone.utc)
    log = _log_since(started)
    machine = describe_machine(device)
    rows: list[Row] = []
    durations: dict[str, float] = {}
    crashed = False

    def report(ctx: Context, family_rows: list[Row]) -> None:
        """The JSON report of the families done and `family_rows` of the one running, when --json asks for it."""
        if args.json is None:
            return
        finished = len(durations) == len(args.only or FAMILIES)
        content = {
            "command": shlex.join(["python", "-m", "benchmarks", *(sys.argv[1:] if argv is None else argv)]),
            "date": started_at.isoformat(timespec="seconds"),
            "complete": finished,
            "quick": args.quick,
            "smoke": args.smoke,
            "clock": ctx.clock_name,
            "machine": machine,
            "durations_s": durations,
            "total_s": round(time.perf_counter() - started, 1),
            "rows": [row.to_dict() for row in rows + family_rows],
        }
        _write_report(args.json, content)

    with tempfile.TemporaryDirectory(prefix="pixart-bench-") as work:
        ctx = Context(device, args.quick, args.smoke, Path(work), args.threads, log)
        ctx.checkpoint = partial(report, ctx)
        for name in args.only or list(FAMILIES):
            family_started = time.perf_counter()
            log(f"{name}: start")
            try:
                rows += importlib.import_module(FAMILIES[name]).run(ctx)
            except Exception as error:  # one broken family must not lose the others' results
                crashed = True
                traceback.print_exc()
                rows.append(Row.skip(name, "family crashed", f"{type(error).__name__}: {error}"))
            durations[name] = round(time.perf_counter() - family_started, 1)
            log(f"{name}: done in {durations[name]:.0f} s")
            report(ctx, [])  # after every family, so a run stopped by a time limit keeps what it measured
    total = round(time.perf_counter() - started, 1)
    print(format_table(rows))
    print(f"\n{len(rows)} rows in {total:.0f} s on {machine['device_name']} ({machine['device']})")
    return 1 if crashed else 0


def _write_report(path: Path, report: dict) -> None:
    """The report as JSON, replacing the file in one step so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
    partial.replace(path)


if __name__ == "__main__":
    sys.exit(main())

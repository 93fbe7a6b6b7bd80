"""`pixart-studio train-demo`: reproduce the embedded demo model from nothing on the CPU."""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from app.core.resources import demo_model_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of train-demo."""
    parser.add_argument("--out", type=Path, default=None, help="output pipeline folder (default: resources/demo-model)")
    parser.add_argument("--quick", action="store_true", help="every stage in miniature, in seconds (for tests)")
    parser.add_argument("--vae-steps", type=int, default=None, help="VAE training steps")
    parser.add_argument("--stage1-steps", type=int, default=None, help="stage 1 (low resolution) transformer steps")
    parser.add_argument(
        "--stage2-steps",
        type=int,
        default=None,
        help="stage 2 and control transformer steps (the last 1000, or all if fewer, decay the learning rate)",
    )
    parser.add_argument("--no-control", action="store_true", help="skip the from-scratch control run")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for torch (default 2)")


def run(args: argparse.Namespace) -> int:
    """Train and export; prints progress and the total time."""
    import torch

    from app.train.trainer import QUICK, TrainSettings, train_demo

    for name in ("vae_steps", "stage1_steps", "stage2_steps", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    torch.set_num_threads(args.threads)
    settings = QUICK if args.quick else TrainSettings()
    overrides = {
        name: getattr(args, name)
        for name in ("vae_steps", "stage1_steps", "stage2_steps")
        if getattr(args, name) is not None
    }
    settings = replace(settings, **overrides, run_control=settings.run_control and not args.no_control)
    out = args.out if args.out is not None else demo_model_dir()
    started = time.perf_counter()
    train_demo(out.resolve(), settings, log=lambda line: print(line, flush=True))
    print(f"total {time.perf_counter() - started:.0f}s with {args.threads} threads")
    return 0

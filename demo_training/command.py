"""`pixart-studio train-demo`: reproduce the embedded demo model from nothing on the CPU."""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.resources import demo_model_dir

if TYPE_CHECKING:
    from demo_training.trainer import TrainSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of train-demo."""
    parser.add_argument("--out", type=Path, default=None, help="output pipeline folder (default: resources/demo-model)")
    parser.add_argument("--quick", action="store_true", help="every stage in miniature, in seconds (for tests)")
    parser.add_argument(
        "--with-control",
        action="store_true",
        help="also train the from-scratch control with stage 2's budget, for the weak-to-strong curves (about "
        "doubles the time; the model does not depend on it)",
    )
    parser.add_argument(
        "--seed",
        type=whole_number,
        default=0,
        help="run seed: 0 (the default) uses the recipe's own seeds; another number trains a fresh run of the same "
        "recipe from other random draws, to see how much its results vary",
    )
    parser.add_argument("--threads", type=at_least_one, default=2, help="CPU threads for torch (default 2)")


def whole_number(text: str) -> int:
    """A count or seed; argparse turns the error into a usage message naming the option."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def at_least_one(text: str) -> int:
    """A step or thread count."""
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def run(args: argparse.Namespace) -> int:
    """Train and export; prints progress and the total time."""
    import torch

    from demo_training.trainer import train_demo

    torch.set_num_threads(args.threads)
    settings = settings_from(args)
    out = args.out if args.out is not None else demo_model_dir()
    started = time.perf_counter()
    train_demo(out.resolve(), settings, log=lambda line: print(line, flush=True))
    print(f"total {time.perf_counter() - started:.0f}s with {args.threads} threads")
    return 0


def settings_from(args: argparse.Namespace) -> TrainSettings:
    """The run's settings: the shipped model's recipe (or --quick), with the run seed and the control on request."""
    from demo_training.trainer import QUICK, TrainSettings

    recipe = QUICK if args.quick else TrainSettings()
    return replace(recipe, run_control=args.with_control, seed=args.seed)

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
    recipe = parser.add_mutually_exclusive_group()
    recipe.add_argument("--quick", action="store_true", help="every stage in miniature, in seconds (for tests)")
    recipe.add_argument(
        "--two-hours",
        action="store_true",
        help="the recipe before 1 Dec: three stage-2 cycles, about 2 hours on a 2-core CPU (the default recipe made "
        "the shipped model in 54 min; docs/demo-model.md)",
    )
    parser.add_argument("--vae-steps", type=at_least_one, default=None, help="VAE training steps")
    parser.add_argument(
        "--stage1-steps", type=at_least_one, default=None, help="stage 1 (low resolution) transformer steps"
    )
    parser.add_argument(
        "--stage2-steps",
        type=at_least_one,
        default=None,
        help="stage 2 and control transformer steps of the first cycle (the recipe's cool-down, or all steps if "
        "fewer, decay the learning rate)",
    )
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
    parser.add_argument(
        "--processes",
        type=at_least_one,
        default=1,
        help="split every transformer batch over this many single-thread processes (data parallel; the model is "
        "the same up to float rounding). On a 2-core EPYC, 2 made one stage-2 step 1.12x faster than one process "
        "with 2 threads (python -m benchmarks --only train), but a whole run only 2-3%% faster. Default 1",
    )


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
    """The run's settings: the shipped model's recipe, --quick or --two-hours, with the step overrides, the run seed
    and the control only on request."""
    from demo_training.trainer import QUICK, TWO_HOURS, TrainSettings

    overrides = {
        name: getattr(args, name)
        for name in ("vae_steps", "stage1_steps", "stage2_steps")
        if getattr(args, name) is not None
    }
    recipe = QUICK if args.quick else TWO_HOURS if args.two_hours else TrainSettings()
    return replace(recipe, **overrides, run_control=args.with_control, seed=args.seed, processes=args.processes)

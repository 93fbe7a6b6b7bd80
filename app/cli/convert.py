"""`pixart-studio convert SRC DEST [--resolution N] [--to original]`: original checkpoint ⇄ diffusers folder."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from app.core.errors import ModelLoadError
from app.model.conversion import PIXART_HEAD_DIM, diffusers_to_original, load_original_checkpoint
from app.model.layout import EXTRAS_FILE, transformer_folder, weights_files
from app.model.loading import build_transformer, save_transformer
from app.model.weights_io import read_sharded, read_weights, write_safetensors

Progress = Callable[[str, float], None]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The convert subcommand's arguments."""
    parser.add_argument("src", type=Path, help="original .pth/.safetensors checkpoint (or a diffusers folder)")
    parser.add_argument("dest", type=Path, help="new diffusers transformer folder (or .safetensors/.pth file)")
    parser.add_argument(
        "--resolution",
        type=int,
        help="image size the checkpoint was trained at (256, 512, 1024, 2048...); read from the file name if omitted",
    )
    parser.add_argument(
        "--head-dim",
        type=int,
        default=PIXART_HEAD_DIM,
        help=f"attention head size, which original checkpoints do not record (PixArt: {PIXART_HEAD_DIM})",
    )
    parser.add_argument(
        "--to",
        choices=("diffusers", "original"),
        default="diffusers",
        help="direction: to a diffusers folder (default) or back to an original checkpoint",
    )


def run(args: argparse.Namespace) -> int:
    """Convert; exit 0 on success, 2 with one line on stderr for bad input."""
    progress = _StderrProgress()
    try:
        if args.to == "original":
            convert_to_original(args.src, args.dest, progress)
        else:
            convert_to_diffusers(args.src, args.dest, args.resolution, progress, args.head_dim)
    except (ModelLoadError, ValueError, OSError) as err:
        progress.finish()
        print(f"pixart-studio convert: error: {err}", file=sys.stderr)
        return 2
    progress.finish()
    print(f"wrote {args.dest}", file=sys.stderr)
    return 0


def convert_to_diffusers(
    src: Path,
    dest: Path,
    resolution: int | None = None,
    progress: Progress | None = None,
    head_dim: int = PIXART_HEAD_DIM,
) -> None:
    """Original checkpoint → diffusers transformer folder (config, weights, kv_compression.json, extras)."""
    report = progress or (lambda _stage, _fraction: None)
    _check_dest_free(dest)
    if not src.is_file():
        raise ModelLoadError(f"{src}: no such checkpoint file")
    report(f"reading {src.name} ({src.stat().st_size / 1e9:.2f} GB)", 0.0)
    converted = load_original_checkpoint(src, resolution, head_dim)
    report("checking weights against the architecture", 0.5)
    # building the model validates every shape before anything is written; dtypes stay as stored
    model = build_transformer(src, converted.config, converted.state_dict, converted.kv_config, "cpu", None)
    report(f"writing {dest}", 0.7)
    save_transformer(model, dest)
    if converted.extras:
        write_safetensors(converted.extras, dest / EXTRAS_FILE)
    report("done", 1.0)


def convert_to_original(src: Path, dest: Path, progress: Progress | None = None) -> None:
    """Diffusers transformer (or pipeline) folder → original checkpoint (.safetensors, or .pth/.pt)."""
    report = progress or (lambda _stage, _fraction: None)
    _check_dest_free(dest)
    if dest.suffix not in (".safetensors", ".pth", ".pt"):
        raise ValueError(f"DEST must end in .safetensors, .pth or .pt for --to original, got {dest.name!r}")
    folder = transformer_folder(src)
    report(f"reading {folder}", 0.0)
    state_dict = read_sharded(weights_files(folder))
    extras = read_weights(folder / EXTRAS_FILE) if (folder / EXTRAS_FILE).is_file() else {}
    report("mapping keys", 0.5)
    try:
        original = diffusers_to_original(state_dict, extras)
    except ModelLoadError as err:
        raise ModelLoadError(f"{folder}: {err}") from None
    report(f"writing {dest}", 0.7)
    if dest.suffix == ".safetensors":
        write_safetensors(original, dest)
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"state_dict": original}, str(dest))
    report("done", 1.0)


def _check_dest_free(dest: Path) -> None:
    """Refuse to overwrite: DEST must not exist, or be an empty folder."""
    if dest.is_file() or (dest.is_dir() and any(dest.iterdir())):
        raise ValueError(f"DEST {dest} already exists; choose a new path or remove it first")


class _StderrProgress:
    """A one-line progress bar on stderr (a line per stage when stderr is not a terminal)."""

    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()
        self._start = time.monotonic()
        self._open = False

    def __call__(self, stage: str, fraction: float) -> None:
        bar = "#" * round(fraction * 24)
        line = f"[{bar:<24}] {fraction:4.0%}  {time.monotonic() - self._start:5.1f}s  {stage}"
        if self._tty:
            print(f"\r{line[:100]:<100}", end="", file=sys.stderr, flush=True)
            self._open = True
        else:
            print(line, file=sys.stderr, flush=True)

    def finish(self) -> None:
        """End the bar's line."""
        if self._open:
            print(file=sys.stderr)
            self._open = False

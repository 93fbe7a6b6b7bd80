"""The `pixart-studio` command: the GUI by default, headless subcommands for everything else."""

from __future__ import annotations

import argparse
import importlib
import sys

from app import __version__

# Each subcommand lives in its own module exposing add_arguments(parser) and run(args) -> exit code;
# they are imported only when used so `pixart-studio` (the GUI) starts without torch.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "generate": ("app.engine.generate_command", "generate images headlessly and save them as PNGs"),
    "convert": ("app.model.convert_command", "convert an original PixArt checkpoint to diffusers format or back"),
    "train-demo": ("app.train.command", "train the embedded demo model from nothing"),
}


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    """The top-level parser; only the subcommand named in argv is imported and given its arguments."""
    parser = argparse.ArgumentParser(prog="pixart-studio", description="PixArt-Σ image generation studio.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="load the demo model, generate one small image offscreen, check it, and exit 0 on success",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        if name in argv:
            importlib.import_module(module_name).add_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse arguments and run the GUI, the self-test or a subcommand."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    if args.self_test:
        from app.self_test import run_self_test

        return run_self_test()
    if args.command is None:
        from app.application import run_gui

        return run_gui()
    return importlib.import_module(SUBCOMMANDS[args.command][0]).run(args)

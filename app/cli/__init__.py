"""The `pixart-studio` command: the GUI by default, headless subcommands for everything else."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType

from app import __version__

# Each subcommand lives in its own module exposing add_arguments(parser) and run(args) -> exit code;
# they are imported only when used so `pixart-studio` (the GUI) starts without torch.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "generate": ("app.cli.generate", "generate images headlessly and save them as PNGs"),
    "upscale": ("app.cli.upscale", "upscale an image to 2K, 4K or an exact size through the refine pass"),
    "convert": ("app.cli.convert", "convert an original PixArt checkpoint to diffusers format or back"),
    "train-demo": ("demo_training.command", "train the embedded demo model from nothing (source checkout only)"),
}
# The demo model's training code is research: it lives beside app/ in a source checkout, in no wheel or bundle.
_RESEARCH_PACKAGE = "demo_training"
_CHECKOUT_ROOT = Path(__file__).resolve().parents[2]


class CommandUnavailableError(Exception):
    """A subcommand whose code is not part of this installation."""


def _command_module(name: str) -> ModuleType:
    """Import a subcommand's module; train-demo's is found in the source checkout this app runs from."""
    module_name = SUBCOMMANDS[name][0]
    if module_name.startswith(_RESEARCH_PACKAGE + "."):
        if not (_CHECKOUT_ROOT / _RESEARCH_PACKAGE / "__init__.py").is_file():
            raise CommandUnavailableError(
                f"{name} needs a source checkout of PixArt Studio: its training code ({_RESEARCH_PACKAGE}/) is not "
                "part of installed packages or bundles. Clone the repository, run `pip install -e .` in it, and run "
                f"`pixart-studio {name}` there."
            )
        if str(_CHECKOUT_ROOT) not in sys.path:
            sys.path.insert(0, str(_CHECKOUT_ROOT))
    return importlib.import_module(module_name)


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
    for name, (_module, help_text) in SUBCOMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        if name in argv:
            try:
                _command_module(name).add_arguments(sub)
            except CommandUnavailableError as error:
                parser.exit(2, f"pixart-studio: {error}\n")
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
    return _command_module(args.command).run(args)

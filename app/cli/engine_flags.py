"""Engine flags shared by the commands that generate: --device, --precision, --text-encoder, --vae-tiling."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from app.core.engine_options import (
    EngineOptions,
    Precision,
    TextEncoderPlacement,
    VaeTiling,
    parse_device,
)
from app.core.errors import InvalidRequestError
from app.core.paths import AppPaths

_FLAGS = {
    "device": "auto|cpu|cuda|cuda:N|mps",
    "precision": "|".join(p.value for p in Precision),
    "text_encoder": "|".join(p.value for p in TextEncoderPlacement),
    "vae_tiling": "|".join(v.value for v in VaeTiling),
}


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """The four engine flags; left out, each takes the app's saved engine setting."""
    saved = "default: the app's saved engine setting"
    parser.add_argument("--device", help=f"where sampling runs: {_FLAGS['device']} ({saved})")
    parser.add_argument("--precision", help=f"number format: {_FLAGS['precision']} ({saved})")
    parser.add_argument(
        "--text-encoder", dest="text_encoder", help=f"where T5 runs: {_FLAGS['text_encoder']} ({saved})"
    )
    parser.add_argument("--vae-tiling", dest="vae_tiling", help=f"tiled VAE decode: {_FLAGS['vae_tiling']} ({saved})")


def saved_engine_options(paths: AppPaths) -> EngineOptions:
    """The engine options the window saved, so the CLI behaves like the app (the one place that reads them)."""
    from app.ui.settings.preferences import open_settings, read_json

    return EngineOptions.from_dict(read_json(open_settings(paths), "engine/options", {}))


def engine_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The engine flags given on the command line, checked, in EngineOptions.to_dict() form."""
    chosen: dict[str, Any] = {}
    if args.device is not None:
        try:
            device, index = parse_device(args.device)
        except ValueError as error:
            raise InvalidRequestError(f"--{error}") from None
        chosen["device"], chosen["device_index"] = device.value, index
    for name, enum_type in (
        ("precision", Precision),
        ("text_encoder", TextEncoderPlacement),
        ("vae_tiling", VaeTiling),
    ):
        value = getattr(args, name)
        if value is None:
            continue
        try:
            chosen[name] = enum_type(value.strip().lower()).value
        except ValueError:
            flag = "--" + name.replace("_", "-")
            raise InvalidRequestError(f"{flag} {value!r} is not valid; choose {_FLAGS[name]}") from None
    return chosen


def engine_choice(args: argparse.Namespace) -> dict[str, Any]:
    """The engine flags given, as a server's job takes them (device as auto, cpu, cuda, cuda:N or mps)."""
    chosen = engine_overrides(args)
    if "device" in chosen:
        index = chosen.pop("device_index")
        chosen["device"] += f":{index}" if index is not None else ""
    return chosen


def engine_options(args: argparse.Namespace, paths: AppPaths | None = None) -> EngineOptions:
    """The saved engine options with the command line's flags applied; previews off (a CLI shows none)."""
    base = saved_engine_options(paths or AppPaths.from_environment())
    merged = EngineOptions.from_dict(base.to_dict() | engine_overrides(args))
    return replace(merged, preview_every=0)


def check_usable(options: EngineOptions, model_dir: str | Path | None = None) -> dict[str, Any]:
    """Resolve the options on this machine (imports torch); InvalidRequestError or ModelLoadError names what to do.

    Returns what will be used, for --json.
    """
    from app.engine.device_policy import resolve_placement

    folder = Path(model_dir) if model_dir is not None and Path(model_dir).is_dir() else None
    placement = resolve_placement(options, folder)
    return engine_report(options, placement)


def engine_report(options: EngineOptions, placement: Any) -> dict[str, Any]:
    """What was asked for and what it became: device, dtype, text encoder place, VAE tiling."""
    encoder = "8bit" if placement.text_encoder_8bit else str(placement.text_encoder_device)
    return {
        "requested": {
            "device": options.device_label,
            "precision": options.precision.value,
            "text_encoder": options.text_encoder.value,
            "vae_tiling": options.vae_tiling.value,
        },
        "device": str(placement.device),
        "dtype": str(placement.dtype).removeprefix("torch."),
        "text_encoder": encoder,
        "vae_tiling": options.vae_tiling.value,
    }

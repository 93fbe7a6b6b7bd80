"""`pixart-studio upscale`: an existing image to a tier or exact size through the refine pass, saved as PNG."""

from __future__ import annotations

import argparse
import secrets
import sys
from dataclasses import replace
from pathlib import Path

from app.cli.engine_flags import add_engine_arguments, check_usable, engine_options
from app.cli.generate import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    ProgressBar,
    _resolve,
    fail,
    prepare_output,
    refuse_to_overwrite,
    run_job,
    save_results,
)
from app.core.errors import InvalidRequestError, ModelLoadError, StoreError, StudioError
from app.core.request import GenerationRequest
from app.core.resources import DEMO_MODEL_NAME
from app.core.schedulers import DEFAULT_SCHEDULER, SCHEDULER_DEFAULTS, default_guidance
from app.core.sizes import validate_size
from app.core.source_image import DEFAULT_STRENGTH, GenerationMode, load_source, upscale_size

TIERS = {"2k": 2048, "4k": 4096}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The upscale subcommand's flags."""
    parser.add_argument("source", metavar="SRC", help="the image to upscale (from the gallery or anywhere)")
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--tier", choices=sorted(TIERS), help="about 2048² or 4096² pixels, keeping the aspect")
    size.add_argument("--width", type=int, help="exact output width in pixels (with --height)")
    parser.add_argument("--height", type=int, help="exact output height in pixels (with --width)")
    parser.add_argument(
        "--strength",
        type=float,
        default=DEFAULT_STRENGTH[GenerationMode.UPSCALE],
        help="how much detail the refine pass may redraw, 0.05 to 1.0 (default %(default)s)",
    )
    parser.add_argument("--prompt", help="what the image shows (default: the prompt in its metadata, else none)")
    parser.add_argument("--seed", type=int, help="seed of the refine pass (default: the image's own, else random)")
    parser.add_argument("--steps", type=int, help="denoising steps of the full schedule (default: the scheduler's)")
    parser.add_argument("--model", default=DEMO_MODEL_NAME, help="model folder, Hub id in the local cache, or 'demo'")
    parser.add_argument("--out", required=True, help="the PNG file to write")
    parser.add_argument("--overwrite", action="store_true", help="replace the file if it already exists")
    add_engine_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Upscale and save; exit 0 on success, 2 for bad input (before the model loads), 1 for a failure."""
    try:
        request = _checked_request(args)
        model_dir = _resolve(args.model, "model")
        prepare_output(Path(args.out))
        refuse_to_overwrite(Path(args.out), request, args.overwrite)
        options = engine_options(args)
        check_usable(options, model_dir)
    except (ValueError, ModelLoadError) as error:  # bad flags, or a device this machine cannot run
        return fail(str(error), EXIT_BAD_INPUT)

    from app.engine.pipeline import Pipeline  # torch is imported only once the input is known to be good
    from app.engine.quiet import quiet_libraries

    quiet_libraries()
    bar = ProgressBar(sys.stderr)
    try:
        pipeline = Pipeline.load(model_dir, options=options, progress=bar.loading)
    except StudioError as error:
        bar.end(keep=False)
        return fail(str(error), EXIT_FAILED)
    request = replace(request, guidance_scale=default_guidance(request.scheduler, pipeline.info.guidance_scale))
    results = run_job(pipeline, request, bar)
    if isinstance(results, int):
        return results
    try:
        files = save_results(results, Path(args.out))
    except OSError as error:
        return fail(f"cannot write {args.out}: {error.strerror or error}", EXIT_FAILED)
    print(files[0])
    return EXIT_OK


def _checked_request(args: argparse.Namespace) -> GenerationRequest:
    """The upscale request, with the source read and every flag checked before any model loads."""
    if Path(args.out).suffix.lower() != ".png":
        raise InvalidRequestError(f"--out {args.out!r} must be a .png file")
    if (args.width is None) != (args.height is None):
        raise InvalidRequestError("give both --width and --height, or --tier")
    source = load_source(args.source)
    if args.tier is not None:
        width, height = upscale_size(source.width, source.height, TIERS[args.tier])
    else:
        width, height = args.width, args.height
    try:
        validate_size(width, height)
    except InvalidRequestError as error:
        raise InvalidRequestError(
            f"cannot upscale {source.width}×{source.height} to {width}×{height}: {error}"
        ) from None
    recorded = _recorded_request(Path(args.source))
    scheduler = recorded.scheduler if recorded is not None else DEFAULT_SCHEDULER
    seed = args.seed if args.seed is not None else recorded.seed if recorded is not None else secrets.randbelow(2**32)
    prompt, negative = (recorded.prompt, recorded.negative_prompt) if recorded is not None else ("", "")
    return GenerationRequest.for_source(
        args.prompt if args.prompt is not None else prompt,
        GenerationMode.UPSCALE,
        source,
        width=width,
        height=height,
        negative_prompt=negative if args.prompt is None else "",
        scheduler=scheduler,
        steps=args.steps if args.steps is not None else SCHEDULER_DEFAULTS[scheduler].steps,
        seed=seed,
        strength=args.strength,
        model=str(args.model),
    )


def _recorded_request(path: Path) -> GenerationRequest | None:
    """The text settings embedded in the source (ours or another tool's), for its prompt and seed; None without.

    An image we made from another image records only its source's hash; its prompt and seed still apply.
    """
    from app.store.metadata import read_image_metadata

    try:
        found = read_image_metadata(path)
    except StoreError:
        return None
    if found.request is not None:
        return found.request
    recorded = (found.metadata or {}).get("request")
    if not isinstance(recorded, dict):
        return None
    text_only = {key: value for key, value in recorded.items() if key not in ("mode", "source", "mask", "extend")}
    try:
        return GenerationRequest.from_dict(text_only | {"masked_only": False})
    except (InvalidRequestError, TypeError):
        return None

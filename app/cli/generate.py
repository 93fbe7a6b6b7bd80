"""`pixart-studio generate`: headless generation to PNG files with the settings embedded."""

from __future__ import annotations

import argparse
import json
import math
import secrets
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from app.cli.engine_flags import add_engine_arguments, check_usable, engine_options
from app.cli.image_args import add_image_arguments, image_fields
from app.core.errors import InvalidRequestError, ModelLoadError, StudioError
from app.core.remote_api import TOKEN_VARIABLE
from app.core.request import MAX_GUIDANCE_SCALE, MAX_STEPS, GenerationRequest, KVCompressionMode
from app.core.resources import DEMO_MODEL_NAME
from app.core.schedulers import DEFAULT_SCHEDULER, SCHEDULER_DEFAULTS, SchedulerName, default_guidance
from app.core.sizes import HighResMethod, aspect_ratio_bins, parse_aspect, size_for_aspect, tiers, validate_size
from app.core.source_image import GenerationMode

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
_BAR_WIDTH = 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The generate subcommand's flags."""
    parser.add_argument("--model", default=DEMO_MODEL_NAME, help="model folder, Hub id in the local cache, or 'demo'")
    parser.add_argument("--transformer", help="a transformer folder or checkpoint to use with the model's other parts")
    parser.add_argument("--prompt", required=True, help="what to draw")
    parser.add_argument("--negative", default="", help="what to avoid (empty by default, as PixArt-Σ was released)")
    parser.add_argument("--width", type=int, help="output width in pixels (with --height)")
    parser.add_argument("--height", type=int, help="output height in pixels (with --width)")
    parser.add_argument(
        "--aspect",
        help="aspect ratio such as 16:9, or an A size (A4, 'A4 landscape') as in the window, at --tier",
    )
    parser.add_argument("--tier", help="size tier of the model, e.g. 512, 1k, 2k, 4k (or 0.5x, 1x, 2x, 4x)")
    parser.add_argument("--steps", type=int, help=f"denoising steps, 1 to {MAX_STEPS} (default: the scheduler's)")
    parser.add_argument(
        "--guidance",
        type=float,
        help=f"classifier-free guidance scale, 0 to {MAX_GUIDANCE_SCALE:g} (default: the model's recommendation, else "
        "the scheduler's)",
    )
    parser.add_argument("--seed", type=int, help="seed of the first image (default: random); a batch adds 1 per image")
    parser.add_argument("--scheduler", default=DEFAULT_SCHEDULER.value, help="one of: " + _scheduler_names())
    parser.add_argument("--kv-compress", default="auto", help="KV token compression: auto, on or off")
    parser.add_argument(
        "--high-res",
        default=HighResMethod.AUTO.value,
        help="sizes above the model's own: auto (what the model draws best), direct (one pass), refine (small, then "
        "redrawn larger) or enlarge (small, then resized: fast, no new detail)",
    )
    parser.add_argument("--batch", type=int, default=1, help="number of images")
    parser.add_argument("--out", required=True, help="PNG file, or a folder for one file per image")
    parser.add_argument("--overwrite", action="store_true", help="replace files that already exist at --out")
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    add_engine_arguments(parser)
    parser.add_argument("--server", help="render on a PixArt Studio server (pixart-studio serve), e.g. http://gpu:7860")
    parser.add_argument("--token", help=f"the server's token (default: ${TOKEN_VARIABLE})")
    add_image_arguments(parser)


def _scheduler_names() -> str:
    return ", ".join(s.value for s in SchedulerName)


def run(args: argparse.Namespace) -> int:
    """Generate and save; exit 0 on success, 2 for bad input, 1 for a failure while running."""
    if args.server:
        from app.cli.remote_generate import run_remote

        return run_remote(args)
    try:
        request = checked_request(args)
        model_dir = _resolve(args.model, "model")
        transformer = _resolve(args.transformer, "transformer") if args.transformer else None
        prepare_output(Path(args.out))
        refuse_to_overwrite(Path(args.out), request, args.overwrite)
        options = engine_options(args)
    except (ValueError, ModelLoadError) as error:  # InvalidRequestError is a ValueError
        return fail(str(error), EXIT_BAD_INPUT)

    try:
        native = _native_resolution(transformer or model_dir)
        if native:
            request = sized_request(args, request, native)
    except ValueError as error:
        return fail(str(error), EXIT_BAD_INPUT)

    try:  # torch is imported only once the input is known to be good
        engine = check_usable(options, model_dir)
    except (ValueError, ModelLoadError) as error:  # a device, precision or encoder this machine cannot run
        return fail(str(error), EXIT_BAD_INPUT)

    from app.engine.pipeline import Pipeline
    from app.engine.quiet import quiet_libraries

    quiet_libraries()
    bar = ProgressBar(sys.stderr)
    try:
        pipeline = Pipeline.load(model_dir, transformer, options=options, progress=bar.loading)
    except StudioError as error:
        bar.end(keep=False)
        return fail(str(error), EXIT_FAILED)
    if args.guidance is None:  # known once the model is found: it may recommend its own
        request = replace(request, guidance_scale=default_guidance(request.scheduler, pipeline.info.guidance_scale))
    try:
        if not native:
            request = sized_request(args, request, pipeline.native_resolution)
        pipeline.plan(request)
    except InvalidRequestError as error:
        bar.end(keep=False)
        pipeline.close()
        return fail(str(error), EXIT_BAD_INPUT)
    results = run_job(pipeline, request, bar)
    if isinstance(results, int):
        return results
    try:
        files = save_results(results, Path(args.out))
    except OSError as error:
        return fail(f"cannot write {args.out}: {error.strerror or error}", EXIT_FAILED)
    if args.json:
        images = [{"file": str(f), **r.metadata()} for f, r in zip(files, results, strict=True)]
        payload = {"engine": engine, "images": images}
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        for file in files:
            print(file)
    return EXIT_OK


_MODEL_DESCRIPTIONS = ("model_index.json", "config.json")


def fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def run_job(pipeline: Any, request: GenerationRequest, bar: ProgressBar) -> list[Any] | int:
    """Sample with the progress bar and print each warning once; an exit code when the job failed. The pipeline is
    closed either way."""
    try:
        results = pipeline.generate(request, on_step=bar)
    except StudioError as error:
        bar.end(keep=False)
        return fail(str(error), EXIT_BAD_INPUT if isinstance(error, InvalidRequestError) else EXIT_FAILED)
    finally:
        pipeline.close()
    bar.end()
    for warning in dict.fromkeys(w for result in results for w in result.warnings):  # once per batch, in order
        print(f"warning: {warning}", file=sys.stderr)
    return list(results)


def _resolve(model: str, what: str) -> str | Path:
    """A model that exists on this machine, else ModelLoadError naming it."""
    from app.model.catalog import resolve_model_path

    try:
        path = resolve_model_path(model)
    except ModelLoadError as error:
        raise ModelLoadError(f"{what} not found: {error}") from None
    # A folder with no model description at all is a wrong path (bad input); a described but broken model is
    # reported by the load itself, as a failure at run time.
    if Path(path).is_dir() and not any((Path(path) / name).is_file() for name in _MODEL_DESCRIPTIONS):
        raise ModelLoadError(f"{what} {path} is not a model folder (it has no {' or '.join(_MODEL_DESCRIPTIONS)})")
    return path


def _native_resolution(path: str | Path) -> int:
    """The model's native resolution from its config files; 0 when they do not say (checkpoints) or are broken."""
    from app.core.model_info import ModelSource
    from app.model.catalog import model_info

    try:
        return model_info(Path(path), ModelSource.FOLDER).native_resolution
    except ModelLoadError:  # a broken model is reported by the load itself, as a run-time failure
        return 0


def checked_request(args: argparse.Namespace) -> GenerationRequest:
    """Everything checkable before the model loads; the size is a placeholder until the model's bins are known."""
    scheduler = SchedulerName.parse(args.scheduler)
    defaults = SCHEDULER_DEFAULTS[scheduler]
    try:
        kv = KVCompressionMode(args.kv_compress.strip().lower())
    except ValueError:
        raise InvalidRequestError(f"--kv-compress {args.kv_compress!r} is not valid; choose auto, on or off") from None
    try:
        high_res = HighResMethod(args.high_res.strip().lower())
    except ValueError:
        valid = ", ".join(method.value for method in HighResMethod)
        raise InvalidRequestError(f"--high-res {args.high_res!r} is not valid; choose {valid}") from None
    if (args.width is None) != (args.height is None):
        raise InvalidRequestError("give both --width and --height, or neither")
    if args.width is not None and args.aspect:
        raise InvalidRequestError("give either --width/--height or --aspect, not both")
    if args.width is not None:
        validate_size(args.width, args.height)
    if args.aspect:
        _check_aspect(args.aspect)
    if Path(args.out).suffix.lower() not in ("", ".png"):
        raise InvalidRequestError(f"--out {args.out!r} must be a folder or a .png file")
    from_image = image_fields(args) or {}
    width, height = args.width or 1024, args.height or 1024
    if from_image and args.width is None:
        width, height = _source_size(from_image)
    return GenerationRequest(
        prompt=args.prompt,
        negative_prompt=args.negative,
        width=width,
        height=height,
        steps=defaults.steps if args.steps is None else args.steps,
        guidance_scale=defaults.guidance_scale if args.guidance is None else args.guidance,
        seed=secrets.randbelow(2**32) if args.seed is None else args.seed,
        scheduler=scheduler,
        batch_size=args.batch,
        kv_compression=kv,
        high_res=high_res,
        model=str(args.model),
        **from_image,
    )


def _source_size(fields: dict) -> tuple[int, int]:
    """The size an image mode makes by default: the source's (outpaint: with the extension)."""
    source = fields["source"]
    left, top, right, bottom = fields.get("extend", (0, 0, 0, 0))
    width, height = source.width + left + right, source.height + top + bottom
    if fields["mode"] is not GenerationMode.OUTPAINT:
        try:
            validate_size(width, height)
        except InvalidRequestError as error:
            raise InvalidRequestError(
                f"the source image is {width}×{height}, which cannot be made ({error}); give --width and --height"
            ) from None
    return width, height


def _check_aspect(text: str) -> None:
    """An aspect the bins can make; beyond their range the nearest bin would silently give another shape."""
    aspect_w, aspect_h = parse_aspect(text)
    ratios = aspect_ratio_bins(1024)  # every model's bins span the same height/width ratios
    if not min(ratios) <= aspect_h / aspect_w <= max(ratios):
        raise InvalidRequestError(
            f"--aspect {text!r} is beyond the model's aspect ratios (1:4 to 4:1); "
            "give --width and --height for a wider or taller image"
        )


def _tier_scale(text: str, native_resolution: int) -> float:
    """A tier label ('2k', '512') or scale ('2x') of this model as its scale of the native resolution."""
    model_tiers = tiers(native_resolution)
    wanted = text.strip().lower()
    for tier in model_tiers:
        if wanted in (tier.label.lower(), str(tier.resolution), f"{tier.scale:g}x"):
            return tier.scale
    valid = ", ".join(f"{t.label} ({t.scale:g}x)" for t in model_tiers)
    raise InvalidRequestError(f"--tier {text!r} is not a tier of this model; choose one of: {valid}")


def sized_request(args: argparse.Namespace, request: GenerationRequest, native: int) -> GenerationRequest:
    """The request at its final size: explicit pixels, an aspect at a tier, or the model's native square.

    An image mode keeps the source's size unless an aspect is given (image to image only).
    """
    scale = _tier_scale(args.tier, native) if args.tier else None
    if request.mode.needs_source and not args.aspect:
        return replace(request, tier_scale=scale)
    if args.width is not None:
        width, height = args.width, args.height
    else:
        aspect_w, aspect_h = parse_aspect(args.aspect) if args.aspect else (1, 1)
        width, height = size_for_aspect(aspect_w, aspect_h, int(native * (scale or 1.0)))
    data = request.to_dict() | {"width": width, "height": height, "tier_scale": scale}
    return GenerationRequest.from_dict(data)


class ProgressBar:
    """A one-line progress bar on a stream, redrawn in place."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.drawn = False

    def __call__(self, progress) -> None:
        filled = _BAR_WIDTH * progress.step // max(1, progress.total)
        bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
        image = f"image {progress.image_index + 1}/{progress.image_count} " if progress.image_count > 1 else ""
        eta = f" eta {math.ceil(progress.eta_s)}s" if progress.eta_s > 0 else ""
        self.stream.write(f"\r{image}{progress.phase:<9} [{bar}] {progress.step}/{progress.total}{eta}   ")
        self.stream.flush()
        self.drawn = True

    def loading(self, stage: str, fraction: float) -> None:
        """Model loading progress, as Pipeline.load reports it."""
        filled = int(_BAR_WIDTH * fraction)
        self.stream.write(f"\rloading  [{'#' * filled}{'-' * (_BAR_WIDTH - filled)}] {stage:<14}")
        self.stream.flush()
        self.drawn = True

    def end(self, keep: bool = True) -> None:
        """Finish the bar's line (or erase it, before an error) so later messages start on their own."""
        if self.drawn:
            self.stream.write("\n" if keep else "\r" + " " * (_BAR_WIDTH + 40) + "\r")
            self.drawn = False


def _is_folder(out: Path) -> bool:
    return out.suffix == "" or out.is_dir()


def prepare_output(out: Path) -> None:
    """Create the folder the images go to and prove it takes a file, before any minutes are spent sampling.

    A test file rather than os.access: on Windows, access() ignores ACLs and read-only shares.
    """
    folder = out if _is_folder(out) else out.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise InvalidRequestError(
            f"cannot write images to {folder}: {error.strerror or error}; choose a folder you can write to with --out"
        ) from error


def _output_file(out: Path, seed: int, batch_size: int) -> Path:
    """Where the image of `seed` goes: a folder gets one file per seed, a batch into a file name numbers them."""
    if _is_folder(out):
        return out / f"pixart-{seed}.png"
    if batch_size > 1:
        return out.with_name(f"{out.stem}-{seed}{out.suffix}")
    return out


def refuse_to_overwrite(out: Path, request: GenerationRequest, overwrite: bool) -> None:
    """Existing files are kept unless --overwrite says otherwise (checked before any minutes are spent sampling)."""
    if overwrite:
        return
    for index in range(request.batch_size):
        file = _output_file(out, request.seed + index, request.batch_size)
        if file.exists():
            raise InvalidRequestError(f"{file} already exists; pass --overwrite to replace it, or choose another --out")


def save_results(results: list, out: Path) -> list[Path]:
    """Write each result as a PNG with its settings embedded; a folder gets one file per seed."""
    from app.store.metadata import png_info

    is_folder = _is_folder(out)
    (out if is_folder else out.parent).mkdir(parents=True, exist_ok=True)  # again: it may have gone while sampling
    files = []
    for result in results:
        file = _output_file(out, result.request.seed, len(results))
        dpi = result.request.dpi
        result.image.save(file, "PNG", pnginfo=png_info(result), dpi=(dpi, dpi))
        files.append(file)
    return files

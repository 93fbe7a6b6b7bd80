"""`generate`'s flags for working from an image: --image, --strength, --mask, --mask-blur, --masked-only, --extend."""

from __future__ import annotations

import argparse
from typing import Any

from app.core.errors import InvalidRequestError
from app.core.sizes import parse_aspect, validate_size
from app.core.source_image import (
    DEFAULT_STRENGTH,
    GenerationMode,
    extend_to_ratio,
    load_mask,
    load_source,
    parse_extend,
)


def add_image_arguments(parser: argparse.ArgumentParser) -> None:
    """--image and the flags that only apply with it."""
    group = parser.add_argument_group(
        "working from an image",
        "--image alone is image to image; with --mask, inpaint; with --extend or --extend-to, outpaint",
    )
    group.add_argument("--image", metavar="SRC", help="source image to start from (PNG, JPEG, WebP...)")
    group.add_argument(
        "--strength",
        type=float,
        help="how much to change, 0.05 to 1.0 (1.0 ignores the source's content; default 0.75, inpaint/outpaint 1.0)",
    )
    group.add_argument("--mask", metavar="MASK", help="inpaint mask: white repaints, black keeps, grey partly")
    group.add_argument("--mask-blur", type=int, metavar="PX", help="feather of the pasted-back seam in pixels (4)")
    group.add_argument(
        "--masked-only",
        action="store_true",
        help="inpaint a padded box around the mask at the model's native size and paste it back",
    )
    extend = group.add_mutually_exclusive_group()
    extend.add_argument("--extend", metavar="LEFT,TOP,RIGHT,BOTTOM", help="outpaint: new pixels on each side")
    extend.add_argument("--extend-to", metavar="RATIO", help="outpaint: widen or heighten to a ratio such as 16:9")


def image_fields(args: argparse.Namespace) -> dict[str, Any] | None:
    """The request fields of --image and its flags (files read and checked now), or None without --image.

    Raises InvalidRequestError for a flag that needs another, an unreadable file or an empty mask.
    """
    extends = args.extend is not None or args.extend_to is not None
    if args.image is None:
        for flag, given in (
            ("--strength", args.strength is not None),
            ("--mask", args.mask is not None),
            ("--mask-blur", args.mask_blur is not None),
            ("--masked-only", args.masked_only),
            ("--extend/--extend-to", extends),
        ):
            if given:
                raise InvalidRequestError(f"{flag} needs a source image; give it with --image SRC")
        return None
    if args.mask is not None and extends:
        raise InvalidRequestError("give --mask (inpaint) or --extend/--extend-to (outpaint), not both")
    if args.masked_only and args.mask is None:
        raise InvalidRequestError("--masked-only needs --mask: it inpaints the box around the mask")
    source = load_source(args.image)
    fields: dict[str, Any] = {"source": source}
    if args.mask is not None:
        fields |= {"mode": GenerationMode.INPAINT, "mask": load_mask(args.mask), "masked_only": args.masked_only}
    elif extends:
        fields["mode"] = GenerationMode.OUTPAINT
        fields["extend"] = _extension(args, source.width, source.height)
    else:
        fields["mode"] = GenerationMode.IMAGE_TO_IMAGE
    if fields["mode"] is not GenerationMode.IMAGE_TO_IMAGE and (args.width is not None or args.aspect):
        raise InvalidRequestError(
            f"{fields['mode'].label.lower()} keeps the source's pixels, so its size is fixed; leave out "
            "--width/--height/--aspect"
        )
    fields["strength"] = DEFAULT_STRENGTH[fields["mode"]] if args.strength is None else args.strength
    if args.mask_blur is not None:
        if args.mask is None and not extends:
            raise InvalidRequestError("--mask-blur needs --mask or --extend: image to image has no seam")
        fields["mask_blur"] = args.mask_blur
    return fields


def _extension(args: argparse.Namespace, width: int, height: int) -> tuple[int, int, int, int]:
    if args.extend is not None:
        extend = parse_extend(args.extend)
    else:
        ratio_w, ratio_h = parse_aspect(args.extend_to)
        extend = extend_to_ratio(width, height, ratio_w, ratio_h)
        if extend == (0, 0, 0, 0):
            raise InvalidRequestError(
                f"the source ({width}×{height}) already has the ratio {args.extend_to}; --extend-to has nothing to add"
            )
    if extend == (0, 0, 0, 0):
        raise InvalidRequestError("--extend 0,0,0,0 adds nothing; give at least one side new pixels, e.g. 0,0,256,0")
    canvas_w, canvas_h = width + extend[0] + extend[2], height + extend[1] + extend[3]
    try:
        validate_size(canvas_w, canvas_h)
    except InvalidRequestError as error:
        raise InvalidRequestError(
            f"the extension makes a {canvas_w}×{canvas_h} canvas from the {width}×{height} source, which cannot be "
            f"made ({error}); extend by less"
        ) from None
    return extend

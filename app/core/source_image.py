"""Working from an image: the modes, the source and mask images, and their torch-free loaders."""

from __future__ import annotations

import base64
import hashlib
import io
import warnings
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidRequestError
from app.core.sizes import MAX_PIXELS

if TYPE_CHECKING:
    from PIL.Image import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Strength a variation uses by default: the source's colour and layout survive, its details change.
VARIATION_STRENGTH = 0.4
MAX_FILE_BYTES = 512 * 1024 * 1024


class GenerationMode(str, Enum):
    """What a request starts from: text alone, or a source image and what to do with it."""

    TEXT = "text"
    IMAGE_TO_IMAGE = "img2img"
    INPAINT = "inpaint"
    OUTPAINT = "outpaint"
    UPSCALE = "upscale"

    @property
    def needs_source(self) -> bool:
        """Every mode but text starts from a source image."""
        return self is not GenerationMode.TEXT

    @property
    def label(self) -> str:
        """Short name for menus and the A1111 parameters."""
        return _LABELS[self]


_LABELS = {
    GenerationMode.TEXT: "Text to image",
    GenerationMode.IMAGE_TO_IMAGE: "Image to image",
    GenerationMode.INPAINT: "Inpaint",
    GenerationMode.OUTPAINT: "Outpaint",
    GenerationMode.UPSCALE: "Upscale",
}

# A1111's defaults, except that inpaint and outpaint repaint fully (their blending keeps the rest), and upscale
# keeps content as the refine pass does.
DEFAULT_STRENGTH = {
    GenerationMode.TEXT: 0.75,
    GenerationMode.IMAGE_TO_IMAGE: 0.75,
    GenerationMode.INPAINT: 1.0,
    GenerationMode.OUTPAINT: 1.0,
    GenerationMode.UPSCALE: 0.4,
}


@dataclass(frozen=True)
class SourceImage:
    """A source image as RGB PNG bytes, with the SHA-256 of the file it came from and its gallery id if any."""

    png: bytes = b""
    sha256: str = ""
    width: int = 0
    height: int = 0
    item_id: int | None = None  # the gallery image it is, for lineage; None for a file from outside

    def __post_init__(self) -> None:
        _check_png(self.png, "source image")
        if len(self.sha256) != 64:
            raise InvalidRequestError(f"source image sha256 {self.sha256!r} is not a SHA-256 hex digest")
        if self.item_id is not None and (not isinstance(self.item_id, int) or self.item_id < 1):
            raise InvalidRequestError(f"source image item_id {self.item_id!r} is not a gallery id")

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.width, self.height

    def image(self) -> Image:
        """The decoded RGB image."""
        from PIL import Image

        return Image.open(io.BytesIO(self.png)).convert("RGB")

    def with_item_id(self, item_id: int | None) -> SourceImage:
        """The same pixels, now known as gallery image `item_id`."""
        return SourceImage(self.png, self.sha256, self.width, self.height, item_id)

    def to_dict(self, images: bool = True) -> dict[str, Any]:
        """JSON-ready: the PNG as base64 when `images`, else only what identifies it (for metadata)."""
        data: dict[str, Any] = {"sha256": self.sha256, "width": self.width, "height": self.height}
        data["item_id"] = self.item_id
        if images:
            data["png"] = base64.b64encode(self.png).decode("ascii")
        return data

    @classmethod
    def from_dict(cls, data: object) -> SourceImage | None:
        """Rebuild from `to_dict()`; None when the data holds no pixels (metadata records only the hash)."""
        if not isinstance(data, dict) or not data.get("png"):
            return None
        png = _b64("source image", data["png"])
        item_id = data.get("item_id")
        return cls(png, str(data.get("sha256", "")), *_png_size(png, "source image"), item_id)


@dataclass(frozen=True)
class MaskImage:
    """An inpaint mask: PNG bytes of an L image (white repaint, black keep, grey partial), of any size."""

    png: bytes = b""
    width: int = 0
    height: int = 0
    coverage: float = 0.0  # mean value in 0..1: the share of the image to repaint

    def __post_init__(self) -> None:
        _check_png(self.png, "mask")
        if not 0.0 < self.coverage <= 1.0:
            raise InvalidRequestError("the mask is empty: paint the area to change")

    def image(self, size: tuple[int, int] | None = None) -> Image:
        """The decoded L image, resized to `size` (bilinear, so grey edges stay partial)."""
        from PIL import Image

        mask = Image.open(io.BytesIO(self.png)).convert("L")
        if size is not None and mask.size != size:
            mask = mask.resize(size, Image.Resampling.BILINEAR)
        return mask

    def to_dict(self, images: bool = True) -> dict[str, Any]:
        """JSON-ready: the PNG as base64 when `images`, else its size and coverage (for metadata)."""
        data: dict[str, Any] = {"width": self.width, "height": self.height, "coverage": round(self.coverage, 6)}
        if images:
            data["png"] = base64.b64encode(self.png).decode("ascii")
        return data

    @classmethod
    def from_dict(cls, data: object) -> MaskImage | None:
        """Rebuild (and re-check) from `to_dict()`; None when the data holds no pixels."""
        if not isinstance(data, dict) or not data.get("png"):
            return None
        return load_mask(_b64("mask", data["png"]))


def load_source(source: str | Path | bytes, item_id: int | None = None) -> SourceImage:
    """Read an image file (or its bytes) as a SourceImage, converted to RGB the way a viewer shows it.

    Alpha is flattened onto white, palettes, greyscale, 16-bit and CMYK become 8-bit RGB, EXIF rotation is applied.
    Raises InvalidRequestError for something that is not a readable image or whose declared size is too large.
    """
    data, name = _read("source image", source)
    image = _open(data, name)
    try:
        rgb = _to_rgb(image)
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidRequestError(f"{name} cannot be read as an image ({exc}); choose another file") from None
    return SourceImage(_encode_png(rgb), hashlib.sha256(data).hexdigest(), rgb.width, rgb.height, item_id)


def load_mask(mask: str | Path | bytes) -> MaskImage:
    """Read a mask file (or bytes) as an L image; an all-black mask is refused."""
    from PIL import ImageOps

    data, name = _read("mask", mask)
    image = _open(data, name)
    try:
        image = ImageOps.exif_transpose(image)
        if "A" in image.getbands() and image.mode != "LA" and _is_transparency_mask(image):
            grey = image.getchannel("A")  # a painted layer: what is painted is what changes
        else:
            grey = _to_rgb(image).convert("L")
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidRequestError(f"{name} cannot be read as an image ({exc}); choose another file") from None
    histogram = grey.histogram()
    coverage = sum(value * count for value, count in enumerate(histogram)) / (255 * grey.width * grey.height)
    if coverage == 0.0:
        raise InvalidRequestError("the mask is empty: paint the area to change")
    return MaskImage(_encode_png(grey), grey.width, grey.height, coverage)


def mask_from_image(image: Image) -> MaskImage:
    """A MaskImage from a PIL image the window painted (L, white repaint)."""
    buffer = io.BytesIO()
    image.convert("L").save(buffer, "PNG", compress_level=1)
    return load_mask(buffer.getvalue())


def parse_extend(text: str) -> tuple[int, int, int, int]:
    """'LEFT,TOP,RIGHT,BOTTOM' pixels → a tuple; InvalidRequestError naming the text otherwise."""
    parts = [part.strip() for part in text.split(",")]
    try:
        values = tuple(int(part) for part in parts)
    except ValueError:
        values = ()
    if len(values) != 4:
        raise InvalidRequestError(f"--extend {text!r} must be four whole numbers LEFT,TOP,RIGHT,BOTTOM, e.g. 0,0,256,0")
    if any(value < 0 for value in values):
        raise InvalidRequestError(
            f"--extend {text!r} has a negative side; give the new pixels on each side (0 or more)"
        )
    return values  # type: ignore[return-value]


def extend_to_ratio(width: int, height: int, ratio_w: float, ratio_h: float) -> tuple[int, int, int, int]:
    """The smallest (left, top, right, bottom) that brings a width×height canvas to ratio_w:ratio_h, centred."""
    target = ratio_w / ratio_h
    if width / height < target:  # too narrow: widen
        extra = max(0, round(height * target) - width)
        return extra // 2, 0, extra - extra // 2, 0
    extra = max(0, round(width / target) - height)
    return 0, extra // 2, 0, extra - extra // 2


def upscale_size(width: int, height: int, resolution: int) -> tuple[int, int]:
    """The size of a `resolution` tier (2048 for 2K) with the source's aspect: about resolution² pixels, sides ×8."""
    scale = resolution / (width * height) ** 0.5
    return max(8, round(width * scale / 8) * 8), max(8, round(height * scale / 8) * 8)


def _read(what: str, source: str | Path | bytes) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), f"the {what}"
    path = Path(source)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InvalidRequestError(f"{path} is larger than {MAX_FILE_BYTES // 2**20} MB; choose a smaller image")
        return path.read_bytes(), str(path)
    except IsADirectoryError:
        raise InvalidRequestError(f"{path} is a folder, not an image; choose an image file") from None
    except FileNotFoundError:
        raise InvalidRequestError(f"{path} does not exist; check the {what}'s path") from None
    except OSError as exc:
        raise InvalidRequestError(f"{path} cannot be read ({exc.strerror or exc}); check the {what}'s path") from None


def _open(data: bytes, name: str) -> Image:
    """Open without decoding the pixels, refusing anything larger than the app can make before it is decoded."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidRequestError(
            f"{name} declares a size too large to open safely (a decompression bomb); choose another image"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InvalidRequestError(
            f"{name} is not an image PixArt Studio can read; choose a PNG, JPEG or WebP"
        ) from None
    width, height = image.size
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise InvalidRequestError(
            f"{name} declares {width}×{height} pixels; at most {MAX_PIXELS:,} can be opened (a decompression bomb "
            "is refused before it is decoded); choose a smaller image"
        )
    return image


def _to_rgb(image: Image) -> Image:
    """8-bit RGB as a viewer shows the image: EXIF-rotated, transparency on white, 16-bit scaled, CMYK converted."""
    from PIL import Image, ImageOps

    image.load()
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # Greyscale deeper than 8 bits: scale the 16-bit range down instead of clipping it to white.
        image = image.convert("I").point(lambda value: value / 257).convert("L")
    elif image.mode == "F":
        image = image.point(lambda value: value * 255).convert("L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if "A" in image.getbands() or image.mode in ("LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def _is_transparency_mask(image: Image) -> bool:
    """True for a painted layer on transparency (RGB all one colour): its alpha, not its colour, is the mask."""
    rgb = image.convert("RGB")
    return all(low == high for low, high in rgb.getextrema())


def _encode_png(image: Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)  # fast: a 4K source is re-encoded on every request
    return buffer.getvalue()


def _check_png(png: object, what: str) -> None:
    if not isinstance(png, bytes) or not png.startswith(PNG_SIGNATURE):
        raise InvalidRequestError(f"the {what} must be PNG bytes; build it with load_source or load_mask")


def _png_size(png: bytes, what: str) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, without decoding it."""
    if len(png) < 24:
        raise InvalidRequestError(f"the {what} is not a PNG")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _b64(what: str, value: object) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (ValueError, TypeError):
        raise InvalidRequestError(f"the {what} is not valid base64 PNG data") from None

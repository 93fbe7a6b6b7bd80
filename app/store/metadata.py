"""Image metadata: what we write into every file, and the generation settings we read back from any."""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import ExifTags, Image, UnidentifiedImageError
from PIL.PngImagePlugin import PngInfo

from app.core.errors import InvalidRequestError, StoreError
from app.core.request import GenerationRequest, GenerationResult
from app.core.source_image import GenerationMode
from app.store import a1111
from app.store.foreign import READERS, a1111_reading
from app.store.sanitize import RAW_LIMIT, build_request, json_object, text

OUR_CHUNK = "pixart-studio"  # PNG iTXt keyword of our JSON settings; EXIF MakerNote in JPEG/WebP
PARAMETERS = "parameters"
FORMAT_VERSION = 1
FORMATS = {"png": ".png", "jpeg": ".jpg", "jpg": ".jpg", "webp": ".webp"}
_USER_COMMENT, _MAKER_NOTE = 0x9286, 0x927C
_UNICODE, _ASCII = b"UNICODE\0", b"ASCII\0\0\0"
_JPEG_EXIF_LIMIT = 65_000  # one JPEG APP1 segment holds at most 64 KB
# Chunks a reader consumes; any other text chunk is kept as unknown.
_CONSUMED = {PARAMETERS, OUR_CHUNK, "prompt", "workflow", "invokeai_metadata", "fooocus_scheme", "XML:com.adobe.xmp"}


@dataclass(frozen=True)
class ImportedSettings:
    """Generation settings found in an image: who made it, a re-runnable request, and every field."""

    source: str  # "pixart-studio", "a1111", "comfyui", "invokeai", "fooocus", "drawthings" or "unknown"
    request: GenerationRequest | None
    fields: dict[str, str]  # recognised fields, labelled for display
    unknown: dict[str, str]  # everything else, kept for display
    notes: tuple[str, ...] = ()  # what was clamped, approximated or could not be used
    settings: dict[str, Any] | None = field(default=None, hash=False)  # our full JSON, for our own images
    mode: GenerationMode = GenerationMode.TEXT  # how it was made; `request` is text to image until its source is found
    source_sha256: str = ""  # the source image it was made from, to find it in the gallery
    source_id: int | None = None


def settings_json(result: GenerationResult, created_at: float | None = None) -> dict[str, Any]:
    """Our full settings for the file and the index: GenerationResult.metadata() plus format and time."""
    created = time.time() if created_at is None else created_at
    return {"format": OUR_CHUNK, "format_version": FORMAT_VERSION, "created_at": created} | result.metadata()


def a1111_parameters(result: GenerationResult) -> str:
    """A1111-compatible `parameters` text for a result, with our own fields (KV compression, path...)."""
    return a1111.format_parameters(result.metadata())


def png_info(result: GenerationResult, settings: dict[str, Any] | None = None) -> PngInfo:
    """PNG text chunks: `parameters` and our JSON, both UTF-8 iTXt (pHYs goes via `dpi=` on save)."""
    return png_text(a1111_parameters(result), settings if settings is not None else settings_json(result))


def png_text(parameters: str | None, settings: dict[str, Any] | None) -> PngInfo:
    """PNG text chunks from parameters text and settings JSON; either may be None."""
    info = PngInfo()
    if parameters is not None:
        info.add_itxt(PARAMETERS, parameters)
    if settings is not None:
        info.add_itxt(OUR_CHUNK, json.dumps(settings, ensure_ascii=False))
    return info


def exif_bytes(parameters: str | None, settings: dict[str, Any] | None, limit: int | None = None) -> bytes:
    """EXIF with parameters as UserComment (A1111's UTF-16 form) and our JSON as MakerNote.

    With a size limit (JPEG), the JSON is left out first, then the parameters are shortened.
    """
    exif = Image.Exif()
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    if parameters is not None:
        ifd[_USER_COMMENT] = _UNICODE + parameters.encode("utf-16-be")
    if settings is not None:
        ifd[_MAKER_NOTE] = json.dumps(settings, ensure_ascii=True).encode("ascii")
    data = exif.tobytes()
    if limit is not None and len(data) > limit:
        ifd.pop(_MAKER_NOTE, None)
        if parameters is not None:
            ifd[_USER_COMMENT] = _UNICODE + parameters[: (limit - 200) // 2].encode("utf-16-be")[: limit - 200]
        data = exif.tobytes()
    return data


def encode_image(
    image: Image.Image,
    fmt: str,
    *,
    parameters: str | None,
    settings: dict[str, Any] | None,
    dpi: int | None,
    quality: int = 95,
    extra_text: dict[str, str] | None = None,
) -> bytes:
    """The file bytes of an image in PNG, JPEG or WebP, with the given metadata (None: left out).

    extra_text: more PNG text chunks to carry (another tool's workflow, say); ignored for JPEG/WebP.
    """
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(f"fmt {fmt!r} is not supported; use one of: png, jpeg, webp")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality {quality} is out of range; use 1 to 100")
    options: dict[str, Any] = {"dpi": (dpi, dpi)} if dpi else {}
    buffer = io.BytesIO()
    if fmt == "png":
        info = png_text(parameters, settings)
        for key, value in (extra_text or {}).items():
            info.add_itxt(key, value)
        image.save(buffer, "PNG", pnginfo=info, **options)
    else:
        has_metadata = parameters is not None or settings is not None
        limit = _JPEG_EXIF_LIMIT if fmt in ("jpeg", "jpg") else None
        if has_metadata:
            options["exif"] = exif_bytes(parameters, settings, limit)
        if fmt == "webp":
            image.save(buffer, "WEBP", quality=quality, **options)
        else:
            _without_alpha(image).save(buffer, "JPEG", quality=quality, **options)
    return buffer.getvalue()


def _without_alpha(image: Image.Image) -> Image.Image:
    """An image JPEG can hold: transparency flattened onto white."""
    if image.mode in ("RGB", "L"):
        return image
    if "A" in image.getbands() or image.mode == "P":
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def _decode_comment(raw: object) -> str | None:
    if isinstance(raw, str):
        return raw
    if not isinstance(raw, bytes):
        return None
    head, body = raw[:8], raw[8:]
    if head == _UNICODE:
        # A1111 writes big-endian; some Windows tools little-endian: ASCII text has its zero byte first in BE.
        little = len(body) > 1 and body[0] != 0 and body[1] == 0
        return body.decode("utf-16-le" if little else "utf-16-be", errors="replace")
    if head in (_ASCII, b"\0" * 8):
        return body.decode("utf-8", errors="replace").rstrip("\0")
    return raw.decode("utf-8", errors="replace").rstrip("\0")


def image_chunks(image: Image.Image) -> dict[str, str]:
    """Text metadata of an open image as {name: text}: PNG text chunks, EXIF comments, XMP, JPEG COM."""
    chunks: dict[str, str] = {}
    for key, value in image.info.items():
        if isinstance(value, str):
            chunks[str(key)] = value[:RAW_LIMIT]
        elif key in ("xmp", "comment") and isinstance(value, bytes):
            chunks[key] = value[:RAW_LIMIT].decode("utf-8", errors="replace")
    try:
        exif = image.getexif()
        ifd = exif.get_ifd(ExifTags.IFD.Exif)
    except Exception:  # PIL raises many types on malformed EXIF; the text chunks are still good
        return chunks
    comment = _decode_comment(ifd.get(_USER_COMMENT, exif.get(_USER_COMMENT)))
    if comment and PARAMETERS not in chunks:
        chunks[PARAMETERS] = comment[:RAW_LIMIT]
    note = _decode_comment(ifd.get(_MAKER_NOTE, exif.get(_MAKER_NOTE)))
    if note:
        if note.strip().lower() in ("fooocus", "a1111"):
            chunks.setdefault("fooocus_scheme", note.strip())
        elif OUR_CHUNK not in chunks and note.lstrip().startswith("{"):
            chunks[OUR_CHUNK] = note[:RAW_LIMIT]
    return chunks


def _ours(chunks: dict[str, str]) -> ImportedSettings | None:
    data = json_object(chunks.get(OUR_CHUNK))
    if data is None or data.get("format", OUR_CHUNK) != OUR_CHUNK or not isinstance(data.get("request"), dict):
        return None
    notes: list[str] = []
    recorded = data["request"]
    source = recorded.get("source") if isinstance(recorded.get("source"), dict) else {}
    try:
        mode = GenerationMode(str(recorded.get("mode", "text")))
    except ValueError:
        mode = GenerationMode.TEXT
    try:
        request: GenerationRequest | None = GenerationRequest.from_settings(recorded)
    except (InvalidRequestError, TypeError) as exc:
        request = None
        notes.append(f"these settings cannot be re-run: {exc}")
    fields: dict[str, str] = {}
    if PARAMETERS in chunks:
        fields = a1111_reading(*a1111.parse_parameters(chunks[PARAMETERS])).fields
    elif request is not None:
        fields = {key: text(value) for key, value in request.to_dict(images=False).items()}
    unknown = {key: text(value) for key, value in chunks.items() if key not in _CONSUMED}
    if mode.needs_source and request is not None and request.mode is GenerationMode.TEXT:
        notes.append(f"made by {mode.label.lower()} from another image; choose that image as the source to re-make it")
    item_id = source.get("item_id")
    return ImportedSettings(
        OUR_CHUNK,
        request,
        fields,
        unknown,
        tuple(notes),
        data,
        mode,
        str(source.get("sha256") or ""),
        item_id if isinstance(item_id, int) and not isinstance(item_id, bool) else None,
    )


def settings_from_chunks(chunks: dict[str, str], image_size: tuple[int, int]) -> ImportedSettings:
    """Generation settings from an image's text chunks; never raises on hostile content."""
    ours = _ours(chunks)
    if ours is not None:
        return ours
    reading = next((found for reader in READERS if (found := reader(chunks)) is not None), None)
    if reading is None and chunks.get(PARAMETERS, "").strip():
        reading = a1111_reading(*a1111.parse_parameters(chunks[PARAMETERS]))
    others = {text(key, 200): text(value) for key, value in chunks.items() if key not in _CONSUMED}
    if reading is None:
        unknown = others | {text(key, 200): text(value) for key, value in chunks.items() if key in _CONSUMED}
        return ImportedSettings("unknown", None, {}, unknown)
    notes: list[str] = []
    request = build_request(reading.loose, image_size, notes)
    return ImportedSettings(reading.source, request, reading.fields, others | reading.unknown, tuple(notes))


def read_image_settings(path: Path) -> ImportedSettings:
    """Generation settings embedded in an image file; StoreError naming the file if it is not an image."""
    try:
        with Image.open(path) as image:
            chunks = image_chunks(image)
            size = image.size
    except ValueError as exc:
        if is_text_limit_error(exc):
            return ImportedSettings("unknown", None, {}, {}, (f"its text metadata is too large to read ({exc})",))
        raise StoreError(f"{path} is not an image PixArt Studio can read ({exc})") from exc
    except (OSError, UnidentifiedImageError, SyntaxError) as exc:
        raise StoreError(f"{path} is not an image PixArt Studio can read ({exc})") from exc
    return settings_from_chunks(chunks, size)


def is_text_limit_error(exc: Exception) -> bool:
    """True for PIL refusing a PNG's oversized (or zip-bomb) text chunk: the pixels are still readable."""
    return isinstance(exc, ValueError) and ("MAX_TEXT_CHUNK" in str(exc) or "text chunks" in str(exc))

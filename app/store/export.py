"""Export to PNG, JPEG or WebP with a file-name template; never overwrites, metadata optional."""

from __future__ import annotations

import string
import time
from pathlib import Path
from typing import Any

from PIL import Image

from app.core.errors import StoreError
from app.core.request import GenerationResult
from app.store import a1111, files
from app.store.items import GalleryItem
from app.store.metadata import FORMATS, OUR_CHUNK, PARAMETERS, encode_image, image_chunks, metadata_json
from app.store.sanitize import json_object

DEFAULT_TEMPLATE = "{date}_{seed}_{prompt}"
TEMPLATE_FIELDS = ("date", "seed", "prompt", "steps", "width", "height", "model", "scheduler", "id", "name")
_KEPT_PNG_CHUNKS = ("prompt", "workflow", "invokeai_metadata", "fooocus_scheme", "XML:com.adobe.xmp")


def file_stem(template: str, values: dict[str, Any]) -> str:
    """A safe file name stem from a template such as '{date}_{seed}_{prompt}'.

    Only plain {field} names from TEMPLATE_FIELDS are allowed: no attribute access, format specs or
    conversions, so a template can neither reach into objects nor ask for a gigabyte of padding.
    """
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"name_template {template!r} is not valid: {exc}") from None
    for _, name, spec, conversion in parts:
        if name is not None and (name not in TEMPLATE_FIELDS or spec or conversion):
            valid = ", ".join("{" + field + "}" for field in TEMPLATE_FIELDS)
            raise ValueError(f"name_template field {{{name}}} is not allowed; use: {valid}")
    text = "".join(literal + (str(values.get(name, "")) if name else "") for literal, name, _, _ in parts)
    return files.safe_stem(text, limit=150)


def _values(settings: dict[str, Any], created_at: float, name: str, item_id: object = "") -> dict[str, Any]:
    request: dict[str, Any] = settings["request"] if isinstance(settings.get("request"), dict) else {}
    return {
        "date": time.strftime("%Y%m%d-%H%M%S", time.localtime(created_at)),
        "seed": request.get("seed", ""),
        "prompt": files.slug(str(request.get("prompt", ""))),
        "steps": request.get("steps", ""),
        "width": request.get("width", ""),
        "height": request.get("height", ""),
        "model": settings.get("model_name") or request.get("model", ""),
        "scheduler": request.get("scheduler", ""),
        "id": item_id,
        "name": name,
    }


def _normalised(fmt: str) -> str:
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(f"fmt {fmt!r} is not supported; use one of: png, jpeg, webp")
    return "jpeg" if fmt == "jpg" else fmt


def _write(dest_folder: Path, stem: str, fmt: str, data: bytes) -> Path:
    try:
        return files.write_atomic(dest_folder / f"{stem}{FORMATS[fmt]}", data)
    except OSError as exc:
        raise StoreError(files.describe_os_error(exc, dest_folder)) from exc


def export_image(
    source: Path,
    dest_folder: Path,
    fmt: str,
    quality: int = 95,
    strip_metadata: bool = False,
    name_template: str = DEFAULT_TEMPLATE,
    item: GalleryItem | None = None,
) -> Path:
    """Copy an image file into dest_folder as PNG, JPEG or WebP; returns the new file (never an existing one).

    The parameters and our settings travel along (PNG text chunks; EXIF UserComment in JPEG/WebP)
    unless strip_metadata is set, which writes pixels only.
    """
    fmt = _normalised(fmt)
    try:
        with Image.open(source) as opened:
            opened.load()
            image = opened.copy()
            chunks = image_chunks(opened)
            dpi = opened.info.get("dpi")
    except (OSError, ValueError, SyntaxError) as exc:
        raise StoreError(f"Cannot export {source}: it is not a readable image ({exc})") from exc
    settings = json_object(chunks.get(OUR_CHUNK))
    if settings is None and item is not None and item.metadata.get("format") == OUR_CHUNK:
        settings = item.metadata
    parameters = chunks.get(PARAMETERS)
    if parameters is None and settings is not None and isinstance(settings.get("request"), dict):
        parameters = a1111.format_parameters(settings)
    known = settings or (item.metadata if item is not None else {})
    created = item.created_at if item is not None else float(known.get("created_at") or source.stat().st_mtime)
    stem = file_stem(name_template, _values(known, created, source.stem, item.id if item is not None else ""))
    extra = {key: chunks[key] for key in _KEPT_PNG_CHUNKS if key in chunks} if fmt == "png" else {}
    data = encode_image(
        image,
        fmt,
        parameters=None if strip_metadata else parameters,
        settings=None if strip_metadata else settings,
        dpi=None if strip_metadata or not dpi else round(float(dpi[0])),
        quality=quality,
        extra_text=None if strip_metadata else extra,
    )
    return _write(dest_folder, stem, fmt, data)


def export_result(
    result: GenerationResult,
    dest_folder: Path,
    fmt: str = "png",
    quality: int = 95,
    strip_metadata: bool = False,
    name_template: str = DEFAULT_TEMPLATE,
) -> Path:
    """Save an in-memory result anywhere (e.g. after the gallery's disk filled up); never overwrites."""
    fmt = _normalised(fmt)
    settings = metadata_json(result)
    stem = file_stem(name_template, _values(settings, settings["created_at"], "image"))
    data = encode_image(
        result.image,
        fmt,
        parameters=None if strip_metadata else a1111.format_parameters(settings),
        settings=None if strip_metadata else settings,
        dpi=None if strip_metadata else result.request.dpi,
        quality=quality,
    )
    return _write(dest_folder, stem, fmt, data)

"""What the gallery's info panel says about one image: its prompts and labelled lines, absent values left out."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime, QLocale
from PySide6.QtGui import QImageReader

from app.store.items import GalleryItem
from app.store.metadata import OUR_CHUNK
from app.ui.gallery.lineage import lineage_of

_SCREEN_DPI = 72  # what every image has unless a print size was asked for; not worth a line
# Other tools' names as their users know them; an unrecognised image says nothing rather than "unknown".
_TOOLS = {
    "a1111": "AUTOMATIC1111 / Forge",
    "comfyui": "ComfyUI",
    "invokeai": "InvokeAI",
    "fooocus": "Fooocus",
    "drawthings": "Draw Things",
}
# Fields of another tool's image that the panel already shows in its own places.
_SHOWN_ELSEWHERE = {"Prompt", "Negative prompt", "Size"}


class DetailAction(Enum):
    """The button or link a line carries besides its selectable text."""

    COPY_SEED = "copy-seed"  # put the seed on the clipboard
    SHOW_SOURCE = "show-source"  # jump to the gallery image this one was made from
    SHOW_FILE = "show-file"  # open the file's folder


@dataclass(frozen=True)
class Detail:
    """One labelled line of the panel."""

    label: str
    text: str
    tooltip: str = ""  # more than the line has room for, e.g. the full path
    action: DetailAction | None = None


@dataclass(frozen=True)
class ItemDetails:
    """Everything the panel shows for one image."""

    prompt: str
    negative_prompt: str
    lines: tuple[Detail, ...]


def details_of(item: GalleryItem, gallery_root: Path) -> ItemDetails:
    """The panel's view of an image: how it was made first, then where its file is."""
    metadata = item.metadata
    request: dict[str, Any] = metadata["request"] if isinstance(metadata.get("request"), dict) else {}
    if metadata.get("format") != OUR_CHUNK:
        made = _foreign_lines(item)
    elif metadata.get("copied_source"):
        made = [Detail("Origin", "Copied into the gallery as the source of an image made from it")]
    else:
        made = _our_lines(item, request)
    lines = [*_size_lines(item, request), *made, *_file_lines(item, gallery_root)]
    return ItemDetails(item.prompt, item.negative_prompt, tuple(lines))


def _size_lines(item: GalleryItem, request: dict[str, Any]) -> list[Detail]:
    width, height = item.width, item.height
    if not (width and height):  # another tool's image may not record its size; the file's header does
        size = QImageReader(str(item.path)).size()
        width, height = size.width(), size.height()
    if not (width > 0 and height > 0):
        return []
    lines = [Detail("Size", f"{width} × {height} px")]
    dpi = request.get("dpi")
    if isinstance(dpi, int) and dpi > 0 and dpi != _SCREEN_DPI:
        lines.append(Detail("Print size", f"{width / dpi:.1f} × {height / dpi:.1f} in at {dpi} DPI"))
    return lines


def _our_lines(item: GalleryItem, request: dict[str, Any]) -> list[Detail]:
    metadata = item.metadata
    lines = [
        Detail("Seed", str(item.seed), action=DetailAction.COPY_SEED),
        Detail("Steps", str(item.steps)),
        Detail("Guidance", f"{item.guidance_scale:g}"),
        Detail("Sampler", item.scheduler),
        Detail("Model", item.model_name),
        Detail("Sampled", _sampling(metadata, request)),
    ]
    lineage = lineage_of(item)
    if lineage is not None:
        strength = request.get("strength")
        at = f" · strength {strength:g}" if isinstance(strength, (int, float)) else ""
        lines.append(Detail("Mode", f"{lineage.mode.label}{at}"))
        size = f" ({lineage.source_width}×{lineage.source_height})" if lineage.source_width else ""
        if lineage.source_id is not None:
            lines.append(Detail("Made from", f"#{lineage.source_id}{size}", action=DetailAction.SHOW_SOURCE))
        else:
            lines.append(Detail("Made from", f"An image from outside the gallery{size}"))
    duration = metadata.get("duration_s")
    if isinstance(duration, (int, float)) and duration > 0:
        server = metadata.get("rendered_on")
        lines.append(Detail("Render time", f"{duration:.1f} s" + (f" on {server}" if server else "")))
    return [line for line in lines if line.text]


def _sampling(metadata: dict[str, Any], request: dict[str, Any]) -> str:
    """How the size was reached, in the size line's words (app/ui/create/size_summary.py)."""
    path = metadata.get("path")
    sampled_size = (metadata.get("sampled_width"), metadata.get("sampled_height"))
    if not all(isinstance(side, int) and side > 0 for side in sampled_size):
        return ""
    sampled = f"{sampled_size[0]}×{sampled_size[1]}"
    if path == "native":
        how = f"Directly at {sampled}"
    elif path == "direct":
        how = f"In one pass at {sampled}"
    elif path == "refine":
        strength = request.get("refine_strength")
        redraw = f" (redraw {strength:g})" if isinstance(strength, (int, float)) else ""
        how = f"At native size, enlarged to {sampled} and redrawn for detail{redraw}"
    elif path == "enlarged":
        how = f"At the model's own resolution ({sampled})"
    else:
        return ""
    target = (request.get("width"), request.get("height"))
    if all(isinstance(side, int) for side in target) and target != sampled_size:
        how += f", then resized to {target[0]}×{target[1]}"
    return how


def _foreign_lines(item: GalleryItem) -> list[Detail]:
    """Another tool's image: its own labelled fields, as it recorded them (not our approximation of them)."""
    tool = _TOOLS.get(item.source)
    lines = [Detail("Made with", tool)] if tool else []
    fields = item.metadata.get("fields")
    for label, value in fields.items() if isinstance(fields, dict) else ():
        if label in _SHOWN_ELSEWHERE or not isinstance(value, str) or not value:
            continue
        lines.append(Detail(str(label), value, action=DetailAction.COPY_SEED if label == "Seed" else None))
    return lines


def _file_lines(item: GalleryItem, gallery_root: Path) -> list[Detail]:
    lines = []
    if item.created_at > 0:
        lines.append(Detail("Created", _moment(item.created_at)))
    lines.append(Detail("File", item.path.name, str(item.path)))
    folder = item.path.parent
    # The dated folder inside the gallery is what tells images apart; the full path is one hover away.
    inside = folder.relative_to(gallery_root).as_posix() if folder.is_relative_to(gallery_root) else "."
    name = inside if inside != "." else folder.name
    lines.append(Detail("Folder", name, str(folder), DetailAction.SHOW_FILE))
    # A file gone since the index was read has no size to show; the next reconcile drops its row.
    with contextlib.suppress(OSError):
        lines.append(Detail("File size", QLocale().formattedDataSize(item.path.stat().st_size, 1)))
    return lines


def _moment(timestamp: float) -> str:
    """'3 Dec 2026, 14:05': the month spelled out so no reader confuses day and month; the time as the locale has it."""
    locale = QLocale()
    pattern = f"d MMM yyyy, {locale.timeFormat(QLocale.FormatType.ShortFormat)}"
    return locale.toString(QDateTime.fromSecsSinceEpoch(int(timestamp)), pattern)

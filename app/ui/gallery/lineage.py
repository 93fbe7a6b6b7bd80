"""Where a gallery image came from: the mode that made it and the gallery image it was made from."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.source_image import GenerationMode
from app.store.items import GalleryItem


@dataclass(frozen=True)
class Lineage:
    """An image made from another: how, and from which gallery image (None: a file from outside)."""

    mode: GenerationMode
    source_id: int | None
    source_width: int
    source_height: int

    def describe(self) -> str:
        """'Inpaint · made from #12' for tooltips and menus."""
        origin = f"#{self.source_id}" if self.source_id is not None else "an image from outside the gallery"
        return f"{self.mode.label} · made from {origin} ({self.source_width}×{self.source_height})"


def lineage_of(item: GalleryItem) -> Lineage | None:
    """The lineage recorded in an image's settings; None for text to image and images of other tools."""
    request = item.settings.get("request")
    if not isinstance(request, dict):
        return None
    source = request.get("source")
    try:
        mode = GenerationMode(request.get("mode", GenerationMode.TEXT.value))
    except ValueError:
        return None
    if not mode.needs_source or not isinstance(source, dict):
        return None
    source_id = source.get("item_id")
    return Lineage(
        mode,
        source_id if isinstance(source_id, int) and source_id > 0 else None,
        int(source.get("width") or 0),
        int(source.get("height") or 0),
    )

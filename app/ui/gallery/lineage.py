"""Where a gallery image came from: the mode that made it and the gallery image it was made from."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.source_image import GenerationMode
from app.store.items import GalleryItem


@dataclass(frozen=True)
class Lineage:
    """An image made from another: how, and from which gallery image (None: a file from outside)."""

    mode: GenerationMode
    source_id: int | None  # None only for images saved before sources were copied into the gallery
    source_width: int
    source_height: int

    def describe(self) -> str:
        """'Inpaint · made from #12' for tooltips and menus."""
        origin = f"#{self.source_id}" if self.source_id is not None else "an image from outside the gallery"
        return f"{self.mode.label} · made from {origin} ({self.source_width}×{self.source_height})"


def lineage_of(item: GalleryItem) -> Lineage | None:
    """The lineage the store keeps for an image; None for text to image and images of other tools."""
    mode = item.generation_mode
    if mode is None or not mode.needs_source:
        return None
    request = item.metadata.get("request")
    source = request.get("source") if isinstance(request, dict) else None
    size = source if isinstance(source, dict) else {}
    return Lineage(mode, item.source_id, int(size.get("width") or 0), int(size.get("height") or 0))

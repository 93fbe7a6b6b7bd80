"""The immutable records the gallery hands to the UI: items, what opening did, and undo tickets."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.errors import InvalidRequestError
from app.core.request import GenerationRequest
from app.core.source_image import GenerationMode, MaskImage, SourceImage
from app.core.wording import counted


@dataclass(frozen=True)
class GalleryItem:
    """One image of the gallery with the metadata of how it was made."""

    id: int
    path: Path
    prompt: str
    negative_prompt: str
    seed: int
    steps: int
    guidance_scale: float
    scheduler: str
    width: int
    height: int
    model_name: str
    model_hash: str
    created_at: float
    favourite: bool
    metadata: dict[str, Any] = field(default_factory=dict, hash=False, repr=False)  # the full JSON metadata
    mode: str = ""  # how it was made: "text", "img2img", "inpaint", "outpaint", "upscale"; "" if unknown
    source_id: int | None = None  # lineage: the gallery image it was made from

    def request(self, source: SourceImage | None = None, mask: MaskImage | None = None) -> GenerationRequest | None:
        """The request that re-makes this image, or None when its metadata cannot be re-run.

        An image made from another is re-made in its mode when `source` (and, for inpaint, `mask`) is given;
        without them its settings come back as text to image.
        """
        data = self.metadata.get("request")
        if not isinstance(data, dict):
            return None
        try:
            return GenerationRequest.from_settings(data, source, mask)
        except (InvalidRequestError, TypeError):
            return None

    @property
    def generation_mode(self) -> GenerationMode | None:
        """The mode that made it, or None for an image from another tool."""
        try:
            return GenerationMode(self.mode) if self.mode else None
        except ValueError:
            return None

    @property
    def source(self) -> str:
        """Which tool made the image: 'pixart-studio', 'a1111', 'comfyui', ..."""
        return str(self.metadata.get("source") or self.metadata.get("format") or "unknown")


@dataclass(frozen=True)
class OpenReport:
    """What opening (or rebuilding) the gallery did, for the UI to tell the user."""

    indexed_new: int = 0  # image files found without an index row, now indexed
    removed_missing: int = 0  # index rows whose file was gone, removed
    recovered_db: Path | None = None  # where a corrupt index was moved aside (never deleted)
    skipped: tuple[Path, ...] = ()  # files that are not readable images

    @property
    def needs_attention(self) -> bool:
        """True when the user should be told something."""
        return bool(self.removed_missing or self.recovered_db or self.skipped)

    def summary(self) -> str:
        """One sentence for a status bar; empty when nothing happened."""
        parts = []
        if self.recovered_db is not None:
            parts.append(f"The gallery index was damaged; it was moved to {self.recovered_db} and rebuilt")
        if self.indexed_new:
            parts.append(f"{counted(self.indexed_new, 'new image')} added")
        if self.removed_missing:
            parts.append(f"{counted(self.removed_missing, 'image')} no longer on disk were removed from the gallery")
        if self.skipped:
            parts.append(f"{len(self.skipped)} unreadable file(s) skipped")
        return "; ".join(parts) + ("." if parts else "")


@dataclass(frozen=True)
class TrashedImage:
    """A deleted image: its index row and where its file went."""

    item: GalleryItem
    original: Path
    trashed: Path


@dataclass(frozen=True)
class DeleteTicket:
    """What `Gallery.delete` did, so `Gallery.undo_delete` can put it back."""

    images: tuple[TrashedImage, ...]
    failed: tuple[Path, ...] = ()  # files that could not be moved; their images stay in the gallery

    @property
    def ids(self) -> tuple[int, ...]:
        """Ids of the deleted items."""
        return tuple(image.item.id for image in self.images)

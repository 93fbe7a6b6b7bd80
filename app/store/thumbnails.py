"""A disk cache of gallery thumbnails, made lazily; call `ensure` from a worker thread, never the GUI's."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

from PIL import Image, ImageOps

from app.core.atomic_files import replace_atomic
from app.core.errors import StoreError

THUMBNAIL_SUFFIX = ".jpg"  # every Qt build reads JPEG; thumbnails have no alpha worth keeping


class ThumbnailCache:
    """Thumbnails keyed by image path, size and modification time, so an edited image gets a new one."""

    def __init__(self, folder: Path, size: int = 256) -> None:
        if not 16 <= size <= 2048:
            raise ValueError(f"size {size} is out of range; use 16 to 2048 pixels")
        self.folder = folder
        self.size = size

    def path_for(self, image: Path) -> Path:
        """Where the thumbnail of `image` is (or will be) kept; raises OSError if the image is gone."""
        stat = image.stat()
        key = f"{os.path.abspath(image)}|{stat.st_mtime_ns}|{stat.st_size}|{self.size}"
        digest = hashlib.sha1(key.encode("utf-8", errors="surrogatepass"), usedforsecurity=False).hexdigest()
        return self.folder / digest[:2] / f"{digest}{THUMBNAIL_SUFFIX}"

    def ensure(self, image: Path) -> Path:
        """The thumbnail's path, making it first if needed; StoreError naming the image if unreadable."""
        try:
            target = self.path_for(image)
        except OSError as exc:
            raise StoreError(f"Cannot make a thumbnail of {image}: {exc.strerror or exc}") from exc
        if target.exists():
            return target
        try:
            with Image.open(image) as source:
                source.draft("RGB", (self.size, self.size))  # JPEG decodes at 1/2, 1/4, 1/8 scale: much faster
                thumb = ImageOps.exif_transpose(source)
                thumb.thumbnail((self.size, self.size), Image.Resampling.LANCZOS, reducing_gap=2.0)
                if thumb.mode != "RGB":
                    background = Image.new("RGB", thumb.size, "white")
                    rgba = thumb.convert("RGBA")
                    background.paste(rgba, mask=rgba.getchannel("A"))
                    thumb = background
            buffer = io.BytesIO()
            thumb.save(buffer, "JPEG", quality=85)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise StoreError(f"Cannot make a thumbnail of {image}: {exc}") from exc
        try:
            replace_atomic(target, buffer.getvalue())
        except OSError as exc:
            raise StoreError(f"Cannot write thumbnails to {self.folder}: {exc.strerror or exc}") from exc
        return target

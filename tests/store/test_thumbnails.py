"""Thumbnails are made lazily into a disk cache and remade when the image changes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from app.core.errors import StoreError
from app.store.thumbnails import ThumbnailCache


def test_thumbnail_is_made_once_and_fits_the_size(tmp_path: Path) -> None:
    """The first ensure writes a JPEG no bigger than the size, keeping the aspect; later calls reuse it."""
    source = tmp_path / "wide.png"
    Image.new("RGBA", (1200, 600), (0, 128, 255, 255)).save(source)
    cache = ThumbnailCache(tmp_path / "thumbs", size=128)
    assert not cache.path_for(source).exists()  # nothing is made until asked
    thumb = cache.ensure(source)
    with Image.open(thumb) as image:
        assert (image.format, image.size) == ("JPEG", (128, 64))
    made = thumb.stat().st_mtime_ns
    assert cache.ensure(source) == thumb
    assert thumb.stat().st_mtime_ns == made


def test_changed_image_gets_a_new_thumbnail(tmp_path: Path) -> None:
    """Replacing the image file (new time and size) gives a new thumbnail path."""
    source = tmp_path / "a.png"
    Image.new("RGB", (300, 300), "red").save(source)
    cache = ThumbnailCache(tmp_path / "thumbs")
    first = cache.ensure(source)
    Image.new("RGB", (300, 200), "blue").save(source)
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 10**9))
    second = cache.ensure(source)
    assert second != first
    with Image.open(second) as image:
        assert image.getpixel((5, 5))[2] > 200  # blue


def test_unreadable_image_raises_store_error(tmp_path: Path) -> None:
    """A broken or missing image gives a StoreError naming it, not a crash in the worker."""
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    cache = ThumbnailCache(tmp_path / "thumbs")
    with pytest.raises(StoreError, match="broken"):
        cache.ensure(broken)
    with pytest.raises(StoreError, match="missing"):
        cache.ensure(tmp_path / "missing.png")


def test_size_is_validated(tmp_path: Path) -> None:
    """A thumbnail size outside 16-2048 is refused with the value named."""
    with pytest.raises(ValueError, match="size 4"):
        ThumbnailCache(tmp_path, size=4)

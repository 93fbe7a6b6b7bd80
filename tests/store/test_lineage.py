"""Lineage: images made from another record its id and the mode; outside sources are copied in; old indexes open."""

from __future__ import annotations

import io
import json
import sqlite3
from dataclasses import replace
from pathlib import Path

from PIL import Image

from app.core.request import GenerationRequest
from app.core.source_image import GenerationMode, SourceImage, load_mask, load_source
from app.store import index as index_module
from app.store.gallery import INDEX_FILE, Gallery
from app.store.items import GalleryItem
from app.store.metadata import read_image_metadata
from tests.store.conftest import make_result


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _outside_source() -> SourceImage:
    return load_source(_png(Image.new("RGB", (64, 64), (10, 200, 30))))


def _from(source: SourceImage, mode: str = "img2img", seed: int = 3, **settings):
    base = make_result(seed=seed)
    request = GenerationRequest.for_source("a green field", mode, source, seed=seed, **settings)
    return replace(base, request=request)


def test_a_source_from_outside_is_copied_in_once_and_is_the_lineage(gallery: Gallery):
    """Two results from the same outside file: one copy in the gallery, both made from it, mode recorded."""
    source = _outside_source()
    first, second = gallery.save(_from(source, seed=1)), gallery.save(_from(source, seed=2))
    copy = gallery.source_of(first)
    assert copy is not None and copy.path.is_file() and copy.path.parent.parent == gallery.root
    assert gallery.source_of(second) == copy
    assert gallery.count() == 3
    with Image.open(copy.path) as image:
        assert image.convert("RGB").getpixel((0, 0)) == (10, 200, 30)
    assert (first.mode, first.generation_mode) == ("img2img", GenerationMode.IMAGE_TO_IMAGE)
    assert [item.id for item in gallery.made_from(copy)] == [second.id, first.id]
    assert copy.mode == "" and copy.request() is None  # a copied source has no settings to re-run


def test_a_gallery_source_is_the_lineage_without_a_copy(gallery: Gallery):
    """Made from an image already in the gallery: lineage points at it and nothing is copied."""
    original = gallery.save(make_result(seed=5))
    source = load_source(original.path, item_id=original.id)
    made = gallery.save(_from(source, "inpaint", mask=load_mask(_png(Image.new("L", (64, 64), 255))), mask_blur=6))
    assert gallery.source_of(made) == original and gallery.count() == 2
    assert made.mode == "inpaint"


def test_metadata_read_back_restores_the_mode_and_names_the_source(gallery: Gallery):
    """The file's settings say the mode, strength, blur and source hash; with the source handed back, the mode
    is restored; without it the settings re-run as text to image."""
    source = _outside_source()
    mask = load_mask(_png(Image.new("L", (64, 64), 255)))
    made = gallery.save(_from(source, "inpaint", mask=mask, mask_blur=9, strength=0.8, masked_only=True))
    found = read_image_metadata(made.path)
    assert found.mode is GenerationMode.INPAINT and found.source_sha256 == source.sha256
    assert found.source_id == made.source_id
    assert found.request is not None and found.request.mode is GenerationMode.TEXT
    assert found.request.prompt == "a green field" and any("inpaint" in note for note in found.notes)
    recorded = found.metadata["request"]
    assert (recorded["strength"], recorded["mask_blur"], recorded["masked_only"]) == (0.8, 9, True)
    assert (recorded["source"]["width"], recorded["source"]["height"]) == (64, 64)
    assert "png" not in recorded["source"]
    with Image.open(made.path) as image:
        parameters = image.info["parameters"]
    assert "Denoising strength: 0.8" in parameters and "Mask blur: 9" in parameters
    assert "Inpaint area: Only masked" in parameters
    again = made.request(source=source, mask=mask)
    assert again is not None and again.mode is GenerationMode.INPAINT and again.mask_blur == 9


def test_rebuilding_from_the_files_keeps_lineage_and_the_copy_hash(gallery: Gallery):
    """The mode, the source's id and the copy's hash come back from the files' own metadata."""
    source = _outside_source()
    made = gallery.save(_from(source))
    copy = gallery.source_of(made)
    gallery.index.clear()
    gallery.reconcile()
    rebuilt = {item.path: item for item in gallery.page(0, 10)}
    assert rebuilt[made.path].mode == "img2img" and rebuilt[made.path].source_id == rebuilt[copy.path].id
    assert gallery.index.find_sha256(source.sha256) is not None


def test_a_lost_index_rebuilt_from_the_files_finds_each_source_by_its_file(gallery: Gallery, tmp_path: Path):
    """An index made anew numbers the images from 1, so a source's old id can name another image; lineage follows
    the source's file instead. A source whose file is gone leaves the image made from nowhere known, not a
    stranger."""
    early = [gallery.save(make_result(seed=seed)) for seed in (10, 11, 12)]
    original = gallery.save(make_result(seed=20))
    made = gallery.save(_from(load_source(original.path, item_id=original.id), seed=21))
    later = [gallery.save(make_result(seed=seed)) for seed in (30, 31)]
    gallery.delete([item.id for item in early])
    gallery.close()

    def reopened() -> dict[Path, GalleryItem]:
        (gallery.root / INDEX_FILE).unlink()
        with Gallery.open(gallery.root, tmp_path / "thumbnails", use_system_trash=False) as fresh:
            return {item.path: item for item in fresh.page(0, 10)}

    rebuilt = reopened()
    assert rebuilt[later[-1].path].id == original.id  # the old id now names a later image
    assert rebuilt[made.path].source_id == rebuilt[original.path].id != original.id
    original.path.rename(original.path.with_name("renamed.png"))
    assert reopened()[made.path].source_id is None


def test_an_old_index_is_migrated_and_its_images_open(tmp_path: Path):
    """A schema-1 index (before lineage) opens: its rows are kept, read as unknown mode, and new saves work."""
    root = tmp_path / "gallery"
    root.mkdir()
    db = sqlite3.connect(root / INDEX_FILE)
    db.executescript(index_module._SCHEMA_V1)  # the index as the first release wrote it
    settings = json.dumps({"format": "pixart-studio", "request": {"prompt": "an old fox", "seed": 4}})
    db.execute(
        "INSERT INTO images (path, prompt, seed, created_at, settings) VALUES (?, ?, ?, ?, ?)",
        ("2025-01-01/old.png", "an old fox", 4, 1.0, settings),
    )
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    (root / "2025-01-01").mkdir()
    make_result("an old fox", seed=4).image.save(root / "2025-01-01" / "old.png")
    with Gallery.open(root, tmp_path / "thumbs", use_system_trash=False) as gallery:
        (old,) = gallery.page(0, 10)
        assert old.prompt == "an old fox" and old.source_id is None and gallery.source_of(old) is None
        assert old.request() is not None and old.request().prompt == "an old fox"
        made = gallery.save(_from(_outside_source()))
        assert gallery.source_of(made) is not None
    check = sqlite3.connect(root / INDEX_FILE)
    assert check.execute("PRAGMA user_version").fetchone()[0] == index_module.SCHEMA_VERSION
    check.close()

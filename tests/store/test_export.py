"""Export: formats, quality, metadata kept or stripped, file-name templates, never overwriting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from app.store.export import export_image, file_stem
from app.store.gallery import Gallery
from app.store.metadata import read_image_metadata
from tests.store.conftest import make_result


def test_export_never_overwrites(gallery: Gallery, tmp_path: Path) -> None:
    """Exporting the same image three times gives three files: name, name-1, name-2; the first is untouched."""
    item = gallery.save(make_result("harbour at dawn", seed=12))
    out = tmp_path / "out"
    first = export_image(item.path, out, "png", item=item)
    first_bytes = first.read_bytes()
    second = export_image(item.path, out, "png", item=item)
    third = export_image(item.path, out, "png", item=item)
    assert [second.stem, third.stem] == [f"{first.stem}-1", f"{first.stem}-2"]
    assert first.read_bytes() == first_bytes
    assert first.stem.endswith("_12_harbour-at-dawn")


@pytest.mark.parametrize(("fmt", "suffix"), [("png", ".png"), ("jpeg", ".jpg"), ("webp", ".webp")])
def test_export_formats_keep_settings(gallery: Gallery, tmp_path: Path, fmt: str, suffix: str) -> None:
    """Every export format carries the parameters, so the settings read back exactly, and keeps the DPI."""
    item = gallery.save(make_result("city at night", seed=21, dpi=300))
    path = export_image(item.path, tmp_path, fmt, quality=80, item=item)
    assert path.suffix == suffix
    with Image.open(path) as image:
        assert image.format == {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt]
        if fmt != "webp":  # Pillow's WebP writer has no resolution field
            assert round(image.info["dpi"][0]) == 300
    assert read_image_metadata(path).request == item.request()


def test_strip_metadata_writes_pixels_only(gallery: Gallery, tmp_path: Path) -> None:
    """With strip_metadata there are no text chunks, no EXIF and no DPI, and no settings read back."""
    item = gallery.save(make_result("secret prompt", seed=5))
    for fmt in ("png", "jpeg", "webp"):
        path = export_image(item.path, tmp_path, fmt, strip_metadata=True, item=item)
        with Image.open(path) as image:
            assert not any(key in image.info for key in ("parameters", "pixart-studio", "exif", "dpi"))
        assert b"secret" not in path.read_bytes()
        assert read_image_metadata(path).source == "unknown"


def test_quality_changes_jpeg_size(gallery: Gallery, tmp_path: Path) -> None:
    """A lower JPEG quality gives a smaller file."""
    noisy = make_result(seed=9, size=(256, 256))
    noisy.image.putdata([((x * 7) % 256, (x * 13) % 256, (x * 29) % 256) for x in range(256 * 256)])
    item = gallery.save(noisy)
    low = export_image(item.path, tmp_path, "jpeg", quality=20, strip_metadata=True)
    high = export_image(item.path, tmp_path, "jpeg", quality=95, strip_metadata=True)
    assert low.stat().st_size < high.stat().st_size


def test_png_export_keeps_other_tools_workflow(tmp_path: Path) -> None:
    """Exporting a ComfyUI PNG keeps its workflow chunk, so ComfyUI can still load it."""
    info = PngInfo()
    info.add_text("workflow", json.dumps({"nodes": []}))
    info.add_text("parameters", "a boat\nSteps: 9, Seed: 4, CFG scale: 3")
    Image.new("RGB", (64, 64)).save(tmp_path / "comfy.png", pnginfo=info)
    path = export_image(tmp_path / "comfy.png", tmp_path / "out", "png", name_template="{name}")
    with Image.open(path) as image:
        assert json.loads(image.info["workflow"]) == {"nodes": []}
    assert path.name == "comfy.png"


def test_jpeg_export_flattens_transparency(tmp_path: Path) -> None:
    """A transparent PNG exported to JPEG is flattened onto white instead of failing."""
    Image.new("RGBA", (64, 64), (255, 0, 0, 0)).save(tmp_path / "clear.png")
    path = export_image(tmp_path / "clear.png", tmp_path / "out", "jpeg")
    with Image.open(path) as image:
        assert image.getpixel((10, 10)) == (255, 255, 255)


def test_name_template_fields_and_safety() -> None:
    """Templates fill known fields, strip unsafe characters, and reject unknown fields or format specs."""
    values = {"date": "20240101-120000", "seed": 7, "prompt": "a-fox", "model": "PixArt/Σ:1024", "name": "x"}
    assert file_stem("{date}_{seed}_{prompt}", values) == "20240101-120000_7_a-fox"
    assert file_stem("{model}", values) == "PixArt_Σ_1024"
    assert file_stem("../../{name}", values) == "x"  # no way out of the folder
    assert file_stem("CON", values) == "image_CON"
    for bad in ("{secret}", "{seed.__class__}", "{seed:>99999999}", "{seed!r}", "{unclosed"):
        with pytest.raises(ValueError, match="name_template"):
            file_stem(bad, values)


def test_bad_format_and_quality_are_refused(gallery: Gallery, tmp_path: Path) -> None:
    """An unknown format or quality outside 1-100 is a ValueError naming the argument."""
    item = gallery.save(make_result(seed=1))
    with pytest.raises(ValueError, match="fmt 'gif'"):
        export_image(item.path, tmp_path, "gif")
    with pytest.raises(ValueError, match="quality 0"):
        export_image(item.path, tmp_path, "jpeg", quality=0)

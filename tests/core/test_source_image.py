"""Source images and masks: read from any file as the user sees it, refused clearly, carried through JSON."""

from __future__ import annotations

import io
import json
import struct
import zlib

import pytest
from PIL import Image

from app.core.errors import InvalidRequestError
from app.core.request import GenerationRequest
from app.core.source_image import (
    GenerationMode,
    extend_to_ratio,
    load_mask,
    load_source,
    parse_extend,
)


def _png(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **options)
    return buffer.getvalue()


def _mask(size=(64, 64), box=(32, 32, 64, 64)) -> bytes:
    mask = Image.new("L", size, 0)
    mask.paste(255, box)
    return _png(mask)


def test_rgba_is_flattened_onto_white():
    """Transparent pixels become white, opaque ones keep their colour."""
    image = Image.new("RGBA", (64, 64), (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 32, 64))
    rgb = load_source(_png(image)).image()
    assert rgb.getpixel((10, 10)) == (0, 0, 255)
    assert rgb.getpixel((50, 10)) == (255, 255, 255)


def test_palette_greyscale_cmyk_and_16_bit_become_rgb():
    """Each mode reads as the colour a viewer shows; 16-bit grey is scaled, not clipped to white."""
    palette = Image.new("RGB", (64, 64), (0, 128, 0)).convert("P", palette=Image.Palette.ADAPTIVE)
    assert load_source(_png(palette)).image().getpixel((0, 0)) == (0, 128, 0)
    assert load_source(_png(Image.new("L", (64, 64), 100))).image().getpixel((0, 0)) == (100, 100, 100)
    deep = Image.new("I;16", (64, 64), 32896)  # mid grey in 16 bits
    assert load_source(_png(deep)).image().getpixel((0, 0)) == (128, 128, 128)
    buffer = io.BytesIO()
    Image.new("CMYK", (64, 64), (0, 255, 255, 0)).save(buffer, "JPEG", quality=100)
    red, green, blue = load_source(buffer.getvalue()).image().getpixel((5, 5))
    assert red > 240 and green < 15 and blue < 15


def test_exif_rotation_is_applied():
    """A portrait photo stored landscape with an Orientation tag loads upright."""
    image = Image.new("RGB", (96, 64), "white")
    image.paste((255, 0, 0), (0, 0, 16, 64))  # a red stripe on the stored left edge
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes(), quality=100)
    source = load_source(buffer.getvalue())
    assert source.size == (64, 96)
    assert source.image().getpixel((32, 5))[1] < 30  # the stripe is now along the top


def test_not_an_image_and_missing_files_are_refused(tmp_path):
    """Text, a missing path and a folder each name the problem."""
    text = tmp_path / "notes.png"
    text.write_text("hello")
    with pytest.raises(InvalidRequestError, match="not an image"):
        load_source(text)
    with pytest.raises(InvalidRequestError, match="does not exist"):
        load_source(tmp_path / "gone.png")
    with pytest.raises(InvalidRequestError, match="folder"):
        load_source(tmp_path)
    with pytest.raises(InvalidRequestError, match="not an image"):
        load_mask(b"GIF89a nonsense")


def _bomb_png(width: int, height: int) -> bytes:
    """A tiny file whose header declares `width`×`height` (pixels never stored)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + header
    ihdr = struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return b"\x89PNG\r\n\x1a\n" + ihdr + end


def test_decompression_bomb_is_refused_before_decoding():
    """A header declaring 100k×100k pixels is refused by its declared size."""
    with pytest.raises(InvalidRequestError, match="decompression bomb"):
        load_source(_bomb_png(100_000, 100_000))
    with pytest.raises(InvalidRequestError, match="decompression bomb"):
        load_source(_bomb_png(9000, 9000))


def test_all_black_mask_is_refused_and_grey_is_partial():
    """An empty mask has the issue's message; a grey mask repaints a share."""
    with pytest.raises(InvalidRequestError, match="the mask is empty: paint the area to change"):
        load_mask(_png(Image.new("L", (32, 32), 0)))
    grey = load_mask(_png(Image.new("L", (32, 32), 51)))
    assert grey.coverage == pytest.approx(0.2)


def test_painted_layer_on_transparency_uses_its_alpha():
    """A mask painted as one colour on a transparent layer repaints where it is painted."""
    layer = Image.new("RGBA", (64, 64), (255, 0, 0, 0))
    layer.paste((255, 0, 0, 255), (0, 0, 16, 16))
    mask = load_mask(_png(layer)).image()
    assert mask.getpixel((4, 4)) == 255 and mask.getpixel((40, 40)) == 0


def test_image_request_round_trips_through_json_with_its_images():
    """A request with source and mask survives to_dict → JSON → from_dict (the remote server's wire format)."""
    source = load_source(_png(Image.new("RGB", (64, 64), (200, 10, 10))), item_id=7)
    request = GenerationRequest.for_source(
        "a blue square", "inpaint", source, mask=load_mask(_mask()), mask_blur=6, masked_only=True
    )
    data = json.loads(json.dumps(request.to_dict()))
    assert isinstance(data["source"]["png"], str) and isinstance(data["mask"]["png"], str)
    again = GenerationRequest.from_dict(data)
    assert again == request
    assert (again.mode, again.width, again.height, again.strength) == (GenerationMode.INPAINT, 64, 64, 1.0)


def test_metadata_form_identifies_the_source_without_its_pixels():
    """to_dict(images=False) keeps hash, size and id; from_dict needs the source handed back to re-run it."""
    source = load_source(_png(Image.new("RGB", (80, 64), "blue")))
    request = GenerationRequest.for_source("x", GenerationMode.IMAGE_TO_IMAGE, source, strength=0.3)
    data = json.loads(json.dumps(request.to_dict(images=False)))
    assert "png" not in data["source"]
    assert data["source"] == {"sha256": source.sha256, "width": 80, "height": 64, "item_id": None}
    with pytest.raises(InvalidRequestError, match="needs a source image"):
        GenerationRequest.from_dict(data)
    assert GenerationRequest.from_dict(data, source=source) == request


def test_text_requests_are_unchanged_by_the_image_fields():
    """Defaults keep every text request as it was: mode text, no source, no extension."""
    request = GenerationRequest("x")
    assert (request.mode, request.source, request.mask, request.extend) == (GenerationMode.TEXT, None, None, (0,) * 4)
    assert GenerationRequest.from_dict({"prompt": "x", "seed": 3}) == GenerationRequest("x", seed=3)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"mode": "img2img", "strength": 0.01}, "strength"),
        ({"mode": "img2img", "strength": 1.5}, "strength"),
        ({"mode": "inpaint"}, "needs a mask"),
        ({"mode": "outpaint"}, "extension is zero"),
        ({"mode": "outpaint", "extend": (0, 0, 9000, 0)}, "extend"),
        ({"mode": "outpaint", "extend": (0, 0, 8000, 0)}, "too large or too narrow"),
        ({"mode": "img2img", "masked_only": True}, "masked-only"),
        ({"mode": "upscale", "extend": (8, 0, 0, 0)}, "takes no extension"),
        ({"mode": "warp"}, "mode"),
    ],
)
def test_bad_image_settings_name_the_problem(settings, message):
    """Each inconsistent or out-of-range setting raises InvalidRequestError naming it."""
    source = load_source(_png(Image.new("RGB", (64, 64), "white")))
    with pytest.raises(InvalidRequestError, match=message):
        GenerationRequest("x", width=64, height=64, source=source, **settings)


def test_text_request_refuses_a_stray_source():
    """A source without an image mode is a mistake, not silently ignored."""
    source = load_source(_png(Image.new("RGB", (64, 64), "white")))
    with pytest.raises(InvalidRequestError, match="image mode"):
        GenerationRequest("x", source=source)


def test_extension_parsing_and_ratio():
    """--extend takes four pixel counts; --extend-to centres the new area to reach the ratio."""
    assert parse_extend("0, 16,32,0") == (0, 16, 32, 0)
    with pytest.raises(InvalidRequestError, match="four whole numbers"):
        parse_extend("1,2,3")
    with pytest.raises(InvalidRequestError, match="negative"):
        parse_extend("0,-1,0,0")
    assert extend_to_ratio(1024, 1024, 16, 9) == (398, 0, 398, 0)
    assert extend_to_ratio(1920, 1080, 1, 1) == (0, 420, 0, 420)
    assert extend_to_ratio(1000, 1000, 1, 1) == (0, 0, 0, 0)

"""Our own metadata: A1111 parameters, the JSON settings chunk and pHYs, written and read back."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from PIL.PngImagePlugin import PngImageFile

from app.core.request import GenerationRequest
from app.core.sizes import GenerationPath
from app.store import a1111
from app.store.export import export_result
from app.store.metadata import a1111_parameters, encode_image, metadata_json, png_info, read_image_metadata
from tests.store.conftest import make_result


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, payload) of every chunk in a PNG file, read without PIL."""
    chunks, position = [], 8
    while position < len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        chunks.append((kind, data[position + 8 : position + 8 + length]))
        position += 12 + length
    return chunks


def _itxt_text(payload: bytes) -> str:
    """The text of an uncompressed iTXt chunk: keyword, flag, method, language, translated keyword, text."""
    _, rest = payload.split(b"\0", 1)
    assert rest[0] == 0, "compressed iTXt"
    _, _, text = rest[2:].split(b"\0", 2)
    return text.decode("utf-8")


def _save_png(result, path: Path) -> Path:
    data = encode_image(
        result.image, "png", parameters=a1111_parameters(result), settings=metadata_json(result), dpi=result.request.dpi
    )
    path.write_bytes(data)
    return path


def test_parameters_text_follows_a1111_layout() -> None:
    """The parameters text has the prompt, the negative prompt, then A1111 keys and ours on the last line."""
    result = make_result("a poster: neon, rain", seed=1234, negative_prompt="blurry, text", steps=25)
    lines = a1111_parameters(result).split("\n")
    assert lines[0] == "a poster: neon, rain"
    assert lines[1] == "Negative prompt: blurry, text"
    assert lines[2].startswith("Steps: 25, Sampler: DPM++ 2M, CFG scale: 4.5, Seed: 1234, Size: 64x64, ")
    params = a1111.split_params(lines[2])
    assert params["Model hash"] == "0123456789"
    assert params["Model"] == "PixArt-Sigma-XL-2-1024-MS"
    assert params["KV compression"] == "layers 14-16 R2"
    assert params["Generation"] == "native"


def test_demo_model_refine_and_print_dpi_are_named() -> None:
    """A refine at print DPI from the demo model says so in the parameters."""
    base = make_result(dpi=300, seed=3)
    result = replace(base, path=GenerationPath.REFINE, is_demo_model=True, sampled_width=128, sampled_height=128)
    params = a1111.split_params(a1111_parameters(result).split("\n")[-1])
    assert params["Model"] == "PixArt-Sigma-XL-2-1024-MS (demo)"
    assert params["Generation"] == "refine"
    assert params["Refine strength"] == "0.5"
    assert params["DPI"] == "300"
    assert params["Sampled size"] == "128x128"


def test_png_has_utf8_itxt_parameters_and_json_chunk(tmp_path: Path) -> None:
    """Both text chunks are iTXt (UTF-8), so a non-Latin prompt survives any reader."""
    result = make_result("雪の中の赤い狐 — ünïcode", seed=5)
    data = _save_png(result, tmp_path / "a.png").read_bytes()
    itxt = {payload.split(b"\0", 1)[0]: payload for kind, payload in _png_chunks(data) if kind == b"iTXt"}
    assert set(itxt) == {b"parameters", b"pixart-studio"}
    assert _itxt_text(itxt[b"parameters"]).startswith("雪の中の赤い狐 — ünïcode\nSteps: 20")
    settings = json.loads(_itxt_text(itxt[b"pixart-studio"]))
    assert settings["request"] == result.request.to_dict()
    assert settings["kv_compression_layers"] == [14, 15, 16]


@pytest.mark.parametrize(("dpi", "pixels_per_metre"), [(72, 2835), (300, 11811)])
def test_png_physical_resolution(tmp_path: Path, dpi: int, pixels_per_metre: int) -> None:
    """pHYs carries 72 DPI by default and the print preset's DPI when asked."""
    data = _save_png(make_result(dpi=dpi), tmp_path / "a.png").read_bytes()
    phys = next(payload for kind, payload in _png_chunks(data) if kind == b"pHYs")
    assert int.from_bytes(phys[:4], "big") == pixels_per_metre
    assert phys[8] == 1  # unit: metre
    with Image.open(tmp_path / "a.png") as image:
        assert round(image.info["dpi"][0]) == dpi


def test_our_png_round_trips_to_the_exact_request(tmp_path: Path) -> None:
    """Reading our PNG back gives the very request that made it, and labelled fields for display."""
    result = make_result("lighthouse at dusk, oil painting", seed=2**62 + 3, negative_prompt="people", steps=31)
    settings = read_image_metadata(_save_png(result, tmp_path / "a.png"))
    assert settings.source == "pixart-studio"
    assert settings.request == result.request
    assert settings.fields["Seed"] == str(2**62 + 3)
    assert settings.fields["Negative prompt"] == "people"
    assert settings.metadata is not None and settings.metadata["duration_s"] == 1.5


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_jpeg_and_webp_carry_parameters_as_exif_user_comment(tmp_path: Path, fmt: str) -> None:
    """JPEG/WebP hold the parameters in EXIF UserComment (A1111's UNICODE form) and still round-trip."""
    result = make_result("a café at night, ünïcode", seed=99)
    path = export_result(result, tmp_path, fmt)
    with Image.open(path) as image:
        comment = image.getexif().get_ifd(ExifTags.IFD.Exif)[0x9286]
    assert comment.startswith(b"UNICODE\0")
    assert comment[8:].decode("utf-16-be") == a1111_parameters(result)
    settings = read_image_metadata(path)
    assert settings.source == "pixart-studio"
    assert settings.request == result.request


def test_png_info_returns_both_chunks() -> None:
    """png_info, for callers that save PNGs themselves, holds the parameters and the JSON."""
    result = make_result(seed=11)
    buffer = io.BytesIO()
    result.image.save(buffer, "PNG", pnginfo=png_info(result))
    image = PngImageFile(io.BytesIO(buffer.getvalue()))
    assert image.text["parameters"] == a1111_parameters(result)
    assert GenerationRequest.from_dict(json.loads(image.text["pixart-studio"])["request"]) == result.request


def test_parameters_only_image_of_ours_still_rereads(tmp_path: Path) -> None:
    """Without the JSON chunk (stripped by another tool), the A1111 text alone still gives a request."""
    result = make_result("tiny robot, watercolor", seed=77, steps=12, scheduler="euler")
    path = tmp_path / "a.png"
    path.write_bytes(encode_image(result.image, "png", parameters=a1111_parameters(result), settings=None, dpi=72))
    settings = read_image_metadata(path)
    assert settings.source == "a1111"
    assert settings.request is not None
    assert (settings.request.prompt, settings.request.seed, settings.request.steps) == (
        "tiny robot, watercolor",
        77,
        12,
    )
    assert settings.request.scheduler.value == "euler"
    assert settings.notes == ()

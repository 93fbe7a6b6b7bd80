"""Hostile metadata in imported images is bounded, sanitised and never executed; reading never crashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from app.core.errors import StoreError
from app.core.request import MAX_PROMPT_CHARS, MAX_SEED, MAX_STEPS
from app.store.metadata import read_image_metadata
from app.store.sanitize import FIELD_LIMIT


def _png(path: Path, chunks: dict[str, str], size: tuple[int, int] = (96, 64)) -> Path:
    info = PngInfo()
    for key, value in chunks.items():
        info.add_itxt(key, value, zip=True)  # compressed, so huge text costs little disk
    Image.new("RGB", size).save(path, pnginfo=info)
    return path


def test_huge_prompt_is_bounded(tmp_path: Path) -> None:
    """A 900,000-character prompt is cut: the request to the prompt limit, shown fields to 64 KB."""
    text = "cat " * 225_000 + "\nSteps: 20, Seed: 1, CFG scale: 5"
    settings = read_image_metadata(_png(tmp_path / "h.png", {"parameters": text}))
    assert settings.request is not None
    assert len(settings.request.prompt) <= MAX_PROMPT_CHARS
    assert any("cut" in note for note in settings.notes)
    assert all(len(value) <= FIELD_LIMIT for value in settings.fields.values())


def test_zip_bomb_text_chunk_is_ignored(tmp_path: Path) -> None:
    """A compressed text chunk that inflates past PIL's 1 MB limit leaves the image readable, settings unknown."""
    settings = read_image_metadata(_png(tmp_path / "z.png", {"parameters": "x" * 3_000_000}))
    assert (settings.source, settings.request) == ("unknown", None)
    assert "too large" in settings.notes[0]


@pytest.mark.parametrize("key", ["pixart-studio", "invokeai_metadata", "prompt", "workflow"])
def test_invalid_json_is_tolerated(tmp_path: Path, key: str) -> None:
    """Broken JSON in any JSON chunk falls back to the A1111 text (or unknown), never an exception."""
    chunks = {key: '{"positive_prompt": "unterminated', "parameters": "a boat\nSteps: 9, Seed: 4, CFG scale: 3"}
    settings = read_image_metadata(_png(tmp_path / "j.png", chunks))
    assert settings.source == "a1111"
    assert settings.request is not None and settings.request.steps == 9


def test_deeply_nested_json_is_tolerated(tmp_path: Path) -> None:
    """JSON nested 200,000 deep (a recursion bomb) is dropped, not a crash."""
    settings = read_image_metadata(_png(tmp_path / "n.png", {"invokeai_metadata": "[" * 200_000}))
    assert settings.source == "unknown"
    assert settings.request is None


def test_control_characters_are_stripped(tmp_path: Path) -> None:
    """Terminal escapes, NUL and bidi overrides never reach the prompt or the displayed fields."""
    text = "red\x1b[31m fox\x00 \u202eevil\nSteps: 20, Seed: 1, CFG scale: 5, Note: bad\x07bell"
    settings = read_image_metadata(_png(tmp_path / "c.png", {"parameters": text}))
    assert settings.request is not None
    assert settings.request.prompt == "red[31m fox evil"
    assert settings.unknown["Note"] == "badbell"
    for value in [*settings.fields.values(), *settings.unknown.values()]:
        assert not any(ord(char) < 32 and char not in "\n\t" for char in value)
        assert "\u202e" not in value


def test_absurd_numbers_are_clamped_with_notes(tmp_path: Path) -> None:
    """Out-of-range steps, guidance, seed and size are clamped, and each change is noted."""
    text = "a tower\nSteps: 99999999999999, CFG scale: 1e300, Seed: 99999999999999999999, Size: 100000x90000"
    settings = read_image_metadata(_png(tmp_path / "a.png", {"parameters": text}))
    request = settings.request
    assert request is not None
    assert request.steps == MAX_STEPS
    assert request.guidance_scale == 50.0
    assert 0 <= request.seed <= MAX_SEED
    assert (request.width, request.height) == (8192, 8192)
    assert len(settings.notes) == 5


def test_nonsense_numbers_fall_back_to_defaults(tmp_path: Path) -> None:
    """NaN guidance, text steps and a random seed (-1) become defaults with notes."""
    text = "a tower\nSteps: many, CFG scale: nan, Seed: -1, Size: 64x64"
    settings = read_image_metadata(_png(tmp_path / "a.png", {"parameters": text}))
    assert settings.request is not None
    assert (settings.request.steps, settings.request.guidance_scale, settings.request.seed) == (20, 4.5, 0)
    assert len(settings.notes) == 3


def test_size_that_cannot_be_made_gives_no_request(tmp_path: Path) -> None:
    """A size too narrow to generate gives request None and says why, instead of raising."""
    text = "a tower\nSteps: 20, Seed: 1, Size: 8192x64"
    settings = read_image_metadata(_png(tmp_path / "a.png", {"parameters": text}))
    assert settings.request is None
    assert any("cannot be re-run" in note for note in settings.notes)
    assert settings.fields["Size"] == "8192x64"


def test_our_chunk_with_bad_values_gives_no_request(tmp_path: Path) -> None:
    """A forged pixart-studio chunk with out-of-range values is rejected, with the reason noted."""
    forged = {"format": "pixart-studio", "request": {"prompt": "x", "steps": 10**9}}
    settings = read_image_metadata(_png(tmp_path / "o.png", {"pixart-studio": json.dumps(forged)}))
    assert settings.source == "pixart-studio"
    assert settings.request is None
    assert "steps" in settings.notes[0]


def test_nothing_in_metadata_is_executed(tmp_path: Path) -> None:
    """Python in Fooocus' resolution or styles is matched as text, never evaluated."""
    marker = tmp_path / "pwned"
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    data = {"prompt": "x", "resolution": payload, "styles": payload, "adm_guidance": payload, "version": "Fooocus"}
    settings = read_image_metadata(_png(tmp_path / "e.png", {"parameters": json.dumps(data)}))
    assert not marker.exists()
    assert settings.request is not None
    assert (settings.request.width, settings.request.height) == (96, 64)  # the image's own size


def test_comfyui_link_cycle_terminates(tmp_path: Path) -> None:
    """A ComfyUI graph whose links loop is walked a bounded number of hops."""
    graph = {
        "1": {"class_type": "KSampler", "inputs": {"seed": ["2", 0], "steps": 5, "positive": ["2", 0], "cfg": 3}},
        "2": {"class_type": "Loop", "inputs": {"value": ["1", 0], "other": ["2", 0]}},
    }
    settings = read_image_metadata(_png(tmp_path / "l.png", {"prompt": json.dumps(graph)}))
    assert settings.source == "comfyui"
    assert settings.request is not None and settings.request.steps == 5


def test_long_parameter_line_without_keys(tmp_path: Path) -> None:
    """A 60 KB last line with no key/value pairs is treated as prompt text (parsing stays linear)."""
    text = "a" * 60_000 + "\n" + ("b" * 1000 + " ") * 60
    settings = read_image_metadata(_png(tmp_path / "p.png", {"parameters": text}))
    assert settings.source == "a1111"
    assert settings.request is not None and settings.request.prompt.startswith("aaaa")


def test_xmp_with_many_unclosed_tags(tmp_path: Path) -> None:
    """An XMP packet of 50,000 unclosed exif:UserComment tags is scanned once and yields nothing."""
    settings = read_image_metadata(_png(tmp_path / "x.png", {"XML:com.adobe.xmp": "<exif:UserComment>" * 50_000}))
    assert (settings.source, settings.request) == ("unknown", None)


@pytest.mark.parametrize("content", [b"not an image at all", b"\x89PNG\r\n\x1a\n\x00\x00"])
def test_non_image_raises_store_error_naming_the_file(tmp_path: Path, content: bytes) -> None:
    """A file that is not an image gives a StoreError that names it."""
    path = tmp_path / "fake.png"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=r"fake\.png"):
        read_image_metadata(path)

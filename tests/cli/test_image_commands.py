"""`generate --image ...` and `upscale`: each mode from the command line, bad input refused before the model loads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import app.engine.pipeline as pipeline_module
from app.cli import main


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A 192×128 picture with settings of its own, as the app writes them."""
    path = tmp_path / "source.png"
    image = Image.new("RGB", (192, 128), "white")
    image.paste((220, 30, 30), (20, 20, 80, 80))
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_itxt(
        "parameters", "a red square on white\nSteps: 2, Sampler: DPM++ 2M, CFG scale: 4.5, Seed: 77, Size: 192x128"
    )
    image.save(path, pnginfo=info)
    return path


def _run(*arguments: str) -> int:
    return main(list(arguments))


def _settings(path: Path) -> dict:
    with Image.open(path) as image:
        return json.loads(image.info["pixart-studio"]) | {"parameters": image.info["parameters"]}


def test_image_alone_is_img2img_at_the_source_size(tiny_model_dir, source, tmp_path):
    """--image with --strength makes an image to image at the source's size, recorded in the metadata."""
    out = tmp_path / "out.png"
    assert _run("generate", "--model", str(tiny_model_dir), "--prompt", "x", "--steps", "4", "--image", str(source),
                "--strength", "0.5", "--out", str(out)) == 0  # fmt: skip
    settings = _settings(out)
    assert Image.open(out).size == (192, 128)
    assert settings["request"]["mode"] == "img2img" and settings["request"]["strength"] == 0.5
    assert "Denoising strength: 0.5" in settings["parameters"]


def test_mask_makes_an_inpaint_that_keeps_the_source_outside(tiny_model_dir, source, tmp_path):
    """--mask inpaints: the result keeps the source's pixels clear of the mask and records the mask blur."""
    mask = tmp_path / "mask.png"
    painted = Image.new("L", (192, 128), 0)
    painted.paste(255, (128, 64, 192, 128))
    painted.save(mask)
    out = tmp_path / "out.png"
    assert _run("generate", "--model", str(tiny_model_dir), "--prompt", "x", "--steps", "2", "--image", str(source),
                "--mask", str(mask), "--mask-blur", "2", "--out", str(out)) == 0  # fmt: skip
    result, original = np.asarray(Image.open(out)), np.asarray(Image.open(source).convert("RGB"))
    assert np.array_equal(result[:50, :110], original[:50, :110])
    settings = _settings(out)
    assert settings["request"]["mode"] == "inpaint" and "Mask blur: 2" in settings["parameters"]


def test_extend_to_a_ratio_outpaints_the_canvas(tiny_model_dir, source, tmp_path):
    """--extend-to 2:1 widens a 3:2 source to 256×128, the source centred."""
    out = tmp_path / "out.png"
    assert _run("generate", "--model", str(tiny_model_dir), "--prompt", "x", "--steps", "2", "--image", str(source),
                "--extend-to", "2:1", "--out", str(out)) == 0  # fmt: skip
    assert Image.open(out).size == (256, 128)
    assert _settings(out)["request"]["extend"] == [32, 0, 32, 0]


def test_upscale_to_exact_size_takes_the_prompt_and_seed_from_the_source(tiny_model_dir, source, tmp_path):
    """upscale writes the exact size with the source's own prompt and seed, recorded as an upscale."""
    out = tmp_path / "big.png"
    assert _run("upscale", str(source), "--width", "384", "--height", "256", "--steps", "4",
                "--model", str(tiny_model_dir), "--out", str(out)) == 0  # fmt: skip
    settings = _settings(out)
    assert Image.open(out).size == (384, 256)
    assert settings["request"]["prompt"] == "a red square on white" and settings["request"]["seed"] == 77
    assert settings["request"]["mode"] == "upscale"
    assert settings["request"]["source"]["width"] == 192 and len(settings["request"]["source"]["sha256"]) == 64


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (["--image", "{missing}"], "does not exist"),
        (["--image", "{text}"], "not an image"),
        (["--image", "{source}", "--mask", "{black}"], "the mask is empty: paint the area to change"),
        (["--image", "{source}", "--mask", "{text}"], "not an image"),
        (["--image", "{source}", "--strength", "1.5"], "strength 1.5 is out of range"),
        (["--image", "{source}", "--strength", "0"], "strength 0.0 is out of range"),
        (["--image", "{source}", "--extend", "0,0,0,0"], "adds nothing"),
        (["--image", "{source}", "--extend", "0,0,9000,0"], "extend by less"),
        (["--image", "{source}", "--extend", "1,2"], "four whole numbers"),
        (["--image", "{source}", "--extend-to", "3:2"], "already has the ratio"),
        (["--image", "{source}", "--masked-only"], "--masked-only needs --mask"),
        (["--image", "{source}", "--mask", "{source}", "--extend", "0,0,8,0"], "not both"),
        (["--strength", "0.5"], "needs a source image"),
        (["--image", "{bomb}"], "decompression bomb"),
    ],
)
def test_bad_image_input_exits_2_before_the_model_loads(tiny_model_dir, tmp_path, source, monkeypatch, capsys,
                                                        arguments, problem):  # fmt: skip
    """Each bad source, mask, strength or extension exits 2 with one line naming it; no model is loaded."""
    black, text, bomb = tmp_path / "black.png", tmp_path / "notes.png", tmp_path / "bomb.png"
    Image.new("L", (192, 128), 0).save(black)
    text.write_text("not pixels")
    from tests.core.test_source_image import _bomb_png

    bomb.write_bytes(_bomb_png(100_000, 100_000))
    names = {"missing": tmp_path / "gone.png", "text": text, "source": source, "black": black, "bomb": bomb}
    monkeypatch.setattr(pipeline_module.Pipeline, "load", _no_load)
    filled = [argument.format(**names) for argument in arguments]
    code = _run("generate", "--model", str(tiny_model_dir), "--prompt", "x", *filled, "--out", str(tmp_path / "o.png"))
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith("error: ") and problem in lines[0]


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (["{text}", "--tier", "4k"], "not an image"),
        (["{source}", "--width", "384"], "both --width and --height"),
        (["{source}", "--width", "99999", "--height", "64"], "cannot upscale 192×128 to 99999×64"),
        (["{source}", "--tier", "4k", "--strength", "2"], "strength 2.0 is out of range"),
    ],
)
def test_bad_upscale_input_exits_2_before_the_model_loads(tiny_model_dir, tmp_path, source, monkeypatch, capsys,
                                                          arguments, problem):  # fmt: skip
    """upscale refuses a bad source, size or strength with one line, before loading a model."""
    text = tmp_path / "notes.png"
    text.write_text("not pixels")
    monkeypatch.setattr(pipeline_module.Pipeline, "load", _no_load)
    filled = [argument.format(text=text, source=source) for argument in arguments]
    code = _run("upscale", *filled, "--model", str(tiny_model_dir), "--out", str(tmp_path / "o.png"))
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith("error: ") and problem in lines[0]


def _no_load(*args, **kwargs):
    raise AssertionError("the model was loaded for bad input")

"""`pixart-studio generate`: PNGs with metadata, JSON output, a progress bar, and exit codes 0, 1 and 2."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
from PIL import Image

from app.cli import main
from app.core.sizes import size_for_aspect
from tests.engine.conftest import NATIVE


def _generate(model: Path, out: Path, *extra: str) -> int:
    return main(
        ["generate", "--model", str(model), "--prompt", "a red circle", "--steps", "2", "--out", str(out), *extra]
    )


def test_generate_writes_the_exact_size_png_with_its_settings(tiny_model_dir, tmp_path, capsys):
    """A run exits 0, draws a progress bar on stderr and saves a PNG of the requested pixels with metadata."""
    out = tmp_path / "poster.png"
    assert _generate(tiny_model_dir, out, "--width", "200", "--height", "150", "--seed", "7") == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out)
    assert "sampling" in captured.err and "[" + "#" * 30 + "] 2/2" in captured.err
    with Image.open(out) as image:
        assert image.size == (200, 150)
        settings = json.loads(image.info["pixart-studio"])
        assert "a red circle" in image.info["parameters"]
    assert settings["request"]["seed"] == 7 and settings["request"]["steps"] == 2


def test_json_batch_aspect_and_tier(tiny_model_dir, tmp_path, capsys):
    """--json prints one entry per image; a batch uses consecutive seeds; --aspect/--tier size from the bins."""
    out = tmp_path / "images"
    code = _generate(tiny_model_dir, out, "--aspect", "16:9", "--tier", "2x", "--batch", "2", "--seed", "5", "--json")
    assert code == 0
    images = json.loads(capsys.readouterr().out)["images"]
    expected = size_for_aspect(16, 9, 2 * NATIVE)
    assert [entry["request"]["seed"] for entry in images] == [5, 6]
    assert [entry["path"] for entry in images] == ["direct", "direct"]
    for entry in images:
        with Image.open(entry["file"]) as image:
            assert image.size == expected
        assert Path(entry["file"]).parent == out


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (["--scheduler", "warp-drive"], "unknown scheduler 'warp-drive'"),
        (["--steps", "0"], "steps 0 is out of range"),
        (["--width", "10000", "--height", "512"], "width 10000 is out of range"),
        (["--width", "512"], "both --width and --height"),
        (["--tier", "16k"], "--tier '16k' is not a tier of this model"),
        (["--kv-compress", "maybe"], "--kv-compress 'maybe'"),
        (["--high-res", "sharp"], "--high-res 'sharp' is not valid; choose auto, direct, refine, enlarge"),
        (["--guidance", "nan"], "guidance_scale must be a finite number"),
        (["--aspect", "99:1"], "--aspect '99:1' is beyond the model's aspect ratios"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_it(tiny_model_dir, tmp_path, capsys, arguments, problem):
    """Bad input exits 2 and prints a single error line that names the problem; nothing is written."""
    assert _generate(tiny_model_dir, tmp_path / "out.png", *arguments) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and problem in lines[0]
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize(
    ("prompt", "warning"),
    [("", "warning: the prompt is empty"), (" ".join(["lighthouse"] * 400), "T5 reads only the first 300")],
)
def test_prompt_warnings_are_printed_on_their_own_line(tiny_model_dir, tmp_path, capsys, prompt, warning):
    """An empty or over-long prompt still makes an image, and the warning is printed once, on its own line,
    without the tokenizer's own warning breaking into the progress bar."""
    out = tmp_path / "out.png"
    library_warnings = _Recorder()
    transformers_log = logging.getLogger("transformers")  # its own handler writes to the terminal, not capsys
    transformers_log.addHandler(library_warnings)
    try:
        command = ["generate", "--model", str(tiny_model_dir), "--prompt", prompt, "--steps", "1", "--out", str(out)]
        assert main(command) == 0
    finally:
        transformers_log.removeHandler(library_warnings)
    lines = capsys.readouterr().err.replace("\r", "\n").splitlines()
    assert len([line for line in lines if line.startswith("warning: ") and warning in line]) == 1
    assert library_warnings.messages == []
    assert out.is_file()


class _Recorder(logging.Handler):
    """Keeps the warnings a library logs."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_an_output_folder_that_cannot_be_made_exits_2_before_sampling(tiny_model_dir, tmp_path, capsys):
    """An --out under a file (not a folder) is reported at once, naming the folder, not after minutes of sampling."""
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    assert _generate(tiny_model_dir, blocker / "poster.png") == 2
    error = capsys.readouterr().err
    assert "sampling" not in error
    assert error.startswith(f"error: cannot write images to {blocker}") and "--out" in error
    assert blocker.read_text() == "a file, not a folder"


def test_missing_model_exits_2_naming_it(tmp_path, capsys):
    """A model path that does not exist exits 2 with the path in the message."""
    missing = tmp_path / "no-such-model"
    assert _generate(missing, tmp_path / "out.png") == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "not found" in lines[0] and str(missing) in lines[0]


def test_a_folder_that_is_not_a_model_exits_2_naming_it(tmp_path, capsys):
    """Pointing --model at an ordinary folder is bad input: exit 2 with one line saying it is not a model."""
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "holiday.jpg").write_bytes(b"not really")
    assert _generate(photos, tmp_path / "out.png") == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "is not a model folder" in lines[0] and str(photos) in lines[0]


def test_broken_model_is_a_runtime_failure_exit_1(tiny_model_dir, tmp_path, capsys):
    """A model folder whose weights are corrupt fails at run time: exit 1 with the file named."""
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    weights = next((broken / "transformer").glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes()[:100])
    assert _generate(broken, tmp_path / "out.png") == 1
    lines = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert errors == lines[-1:] and "transformer" in errors[0] and "safetensors" in errors[0]


def test_without_guidance_a_model_gets_the_scale_its_folder_recommends(tiny_model_dir, tmp_path, capsys):
    """A studio.json guidance_scale is the default; --guidance overrides it; a folder without one gets 4.5."""
    model = tmp_path / "recommends"
    shutil.copytree(tiny_model_dir, model)
    (model / "studio.json").write_text(json.dumps({"guidance_scale": 3.0}))
    for folder, extra, expected in ((model, (), 3.0), (model, ("--guidance", "6"), 6.0), (tiny_model_dir, (), 4.5)):
        out = tmp_path / f"{folder.name}-{len(extra)}.png"
        assert _generate(folder, out, "--width", "64", "--height", "64", *extra) == 0
        with Image.open(out) as image:
            assert json.loads(image.info["pixart-studio"])["request"]["guidance_scale"] == expected
    capsys.readouterr()


def test_auto_above_native_follows_the_models_studio_json_and_high_res_overrides_it(tiny_model_dir, tmp_path, capsys):
    """A model whose studio.json says `enlarge` is enlarged at the 2× tier under auto; --high-res direct samples it."""
    model = tmp_path / "enlarges"
    shutil.copytree(tiny_model_dir, model)
    (model / "studio.json").write_text(json.dumps({"above_native": "enlarge"}))
    paths = []
    for extra in ((), ("--high-res", "direct")):
        assert _generate(model, tmp_path / f"out{len(extra)}.png", "--tier", "2x", "--json", *extra) == 0
        paths.append(json.loads(capsys.readouterr().out)["images"][0]["path"])
    assert paths == ["enlarged", "direct"]


def test_an_existing_file_is_kept_unless_overwrite_is_given(tiny_model_dir, tmp_path, capsys):
    """A second run to the same --out exits 2 naming the file and --overwrite, before sampling; --overwrite replaces."""
    out = tmp_path / "poster.png"
    assert _generate(tiny_model_dir, out, "--seed", "1") == 0
    first = out.read_bytes()
    capsys.readouterr()
    assert _generate(tiny_model_dir, out, "--seed", "2") == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and str(out) in lines[0] and "--overwrite" in lines[0]
    assert out.read_bytes() == first
    assert _generate(tiny_model_dir, out, "--seed", "2", "--overwrite") == 0
    assert out.read_bytes() != first


def test_aspect_a4_is_the_windows_a_portrait_and_no_library_bars_print(tiny_model_dir, tmp_path, capfd):
    """--aspect A4 makes the A-series portrait shape; the output has our bar, not the libraries' "Loading weights"."""
    out = tmp_path / "a4.png"
    assert _generate(tiny_model_dir, out, "--aspect", "A4") == 0
    with Image.open(out) as image:
        assert image.size == size_for_aspect(1, 2**0.5, NATIVE)
        assert abs(image.height / image.width - 2**0.5) < 0.02
    captured = capfd.readouterr()
    assert "Loading weights" not in captured.out + captured.err

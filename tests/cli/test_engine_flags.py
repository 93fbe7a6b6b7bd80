"""Engine flags on `generate`: saved settings as defaults, --json reports what ran, unusable choices exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from app.cli import main
from app.core.engine_options import EngineOptions, Precision, TextEncoderPlacement
from app.core.paths import AppPaths
from app.engine import device_policy
from app.store.preferences import PreferencesFile, preferences_path


def _generate(model: Path, out: Path, *extra: str) -> int:
    command = ["generate", "--model", str(model), "--prompt", "a red circle", "--steps", "1", "--out", str(out)]
    return main([*command, "--seed", "3", *extra])


def test_json_reports_the_engine_flags_used(tiny_model_dir, tmp_path, capsys):
    """--precision fp32 --device cpu runs in fp32 on the CPU, and --json says so beside each image."""
    assert _generate(tiny_model_dir, tmp_path / "a.png", "--device", "cpu", "--precision", "fp32", "--json") == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["engine"]["requested"]["precision"] == "fp32" and payload["engine"]["dtype"] == "float32"
    assert payload["engine"]["device"] == "cpu" and payload["engine"]["text_encoder"] == "cpu"
    assert payload["images"][0]["dtype"] == "float32"


def test_defaults_come_from_the_apps_saved_engine_settings(tiny_model_dir, tmp_path, capsys):
    """Without flags, the command uses what Settings → Engine saved (here bf16), so it behaves like the window."""
    file = PreferencesFile(preferences_path(AppPaths.from_environment()))
    file.update(file.load(), engine_options=EngineOptions(precision=Precision.BF16))
    assert _generate(tiny_model_dir, tmp_path / "a.png", "--json") == 0
    engine = json.loads(capsys.readouterr().out)["engine"]
    assert engine["requested"]["precision"] == "bf16" and engine["dtype"] == "bfloat16"


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (["--device", "tpu"], "choose auto, cpu, cuda, cuda:N"),
        (["--device", "cuda:x"], "device 'cuda:x' is not valid"),
        (["--precision", "fp8"], "--precision 'fp8' is not valid; choose auto|fp32|fp16|bf16"),
        (["--text-encoder", "gpu"], "--text-encoder 'gpu' is not valid"),
        (["--vae-tiling", "maybe"], "--vae-tiling 'maybe' is not valid"),
        (["--device", "cuda"], "install a CUDA build of torch"),
        (["--device", "mps"], "only on Apple-silicon Macs; choose auto or cpu"),
        (["--device", "cpu", "--text-encoder", "8bit"], "needs a CUDA GPU; choose the CPU placement"),
    ],
)
def test_unusable_engine_choices_exit_2_naming_what_to_do(tiny_model_dir, tmp_path, capsys, arguments, problem):
    """A choice this machine cannot run exits 2 with one line naming what to install or choose; no file."""
    if torch.cuda.is_available() and "cuda" in arguments:
        pytest.skip("this machine has a CUDA GPU")
    assert _generate(tiny_model_dir, tmp_path / "out.png", *arguments) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and problem in lines[0]
    assert not (tmp_path / "out.png").exists()


def test_8bit_without_bitsandbytes_names_the_package(monkeypatch):
    """On a CUDA machine without bitsandbytes, the 8-bit text encoder is refused with the pip command."""
    monkeypatch.setattr(device_policy.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(Exception, match="pip install bitsandbytes"):
        device_policy.pick_text_encoder(TextEncoderPlacement.INT8, torch.device("cuda"), 0, 0)


def test_cuda_index_round_trips_through_the_settings_form():
    """cuda:1 is kept as device cuda with index 1; an index on another device is dropped."""
    options = EngineOptions.from_dict({"device": "cuda", "device_index": 1})
    assert options.device_label == "cuda:1"
    assert EngineOptions.from_dict(options.to_dict()) == options
    assert EngineOptions.from_dict({"device": "cpu", "device_index": 1}).device_index is None

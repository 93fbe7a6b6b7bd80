"""`pixart-studio train-demo --quick`: every stage end to end, and the result loads like any model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from demo_training.trainer import GUIDANCE_CANDIDATES


@pytest.fixture(scope="module")
def quick_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model folder written by the quick training run (trained once for the module)."""
    out = tmp_path_factory.mktemp("train") / "demo"
    assert main(["train-demo", "--quick", "--with-control", "--out", str(out), "--threads", "1"]) == 0
    return out


def test_quick_run_writes_a_diffusers_pixart_sigma_folder(quick_model: Path) -> None:
    """The folder has every pipeline component, the demo marker, KV compression and both curves."""
    index = json.loads((quick_model / "model_index.json").read_text())
    assert index["_class_name"] == "PixArtSigmaPipeline"
    assert index["transformer"] == ["diffusers", "PixArtTransformer2DModel"]
    for part in ("tokenizer/spiece.model", "tokenizer/tokenizer.json", "text_encoder/config.json", "vae/config.json"):
        assert (quick_model / part).is_file(), part
    studio = json.loads((quick_model / "studio.json").read_text())
    assert studio["is_demo"] is True and studio["native_resolution"] == 128 and studio["how_to_get_real_weights"]
    assert studio["guidance_scale"] in GUIDANCE_CANDIDATES
    kv = json.loads((quick_model / "transformer" / "kv_compression.json").read_text())
    assert (kv["layers"], kv["ratio"], kv["sampling"]) == ([1], 2, "conv")
    report = json.loads((quick_model / "training_report.json").read_text())
    assert report["stage2"]["steps"] == report["control"]["steps"] == [0, 1, 2, 3, 4]  # checked at every step
    sweep = report["guidance_sweep"]  # the recommendation is the best validation all-correct of the scales tried
    assert set(sweep) == {f"{scale:g}" for scale in GUIDANCE_CANDIDATES}
    assert sweep[f"{studio['guidance_scale']:g}"]["all"] == max(scores["all"] for scores in sweep.values())
    assert "control (from scratch)" in (quick_model / "demobench.svg").read_text()


def test_quick_model_loads_through_the_normal_loader(quick_model: Path) -> None:
    """app.model.loading reads the folder: T5 tokenizer (300 tokens), encoder, VAE, compressed transformer."""
    from app.model.loading import load_pipeline_components

    components = load_pipeline_components(quick_model)
    assert components.tokenizer.model_max_length == 300
    assert components.transformer.config.out_channels == 8
    assert components.info.is_demo
    assert components.info.kv_config is not None and components.info.kv_config.layers == (1,)
    ids = components.tokenizer("a small red circle in the center on a white background").input_ids
    assert ids[-1] == components.tokenizer.eos_token_id and components.tokenizer.unk_token_id not in ids


@pytest.fixture(scope="module")
def quick_model_alone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quick recipe from run seed 1, without the control."""
    out = tmp_path_factory.mktemp("train") / "seed1"
    assert main(["train-demo", "--quick", "--seed", "1", "--out", str(out), "--threads", "1"]) == 0
    return out


def test_another_run_seed_trains_another_model_from_the_same_recipe(quick_model: Path, quick_model_alone: Path) -> None:
    """--seed moves the initialisations, drawn images and batches: the same recipe, different weights."""
    from safetensors.torch import load_file

    assert json.loads((quick_model_alone / "training_report.json").read_text())["settings"]["seed"] == 1
    for part in ("vae/diffusion_pytorch_model.safetensors", "transformer/diffusion_pytorch_model.safetensors"):
        first, other = load_file(quick_model / part), load_file(quick_model_alone / part)
        assert first.keys() == other.keys()
        assert any(not first[name].equal(other[name]) for name in first), part


def test_without_the_control_stage_2_is_checked_only_at_the_end_of_each_cycle(quick_model_alone: Path) -> None:
    """The dense checks only serve the comparison with the control; alone they would cost time for nothing."""
    report = json.loads((quick_model_alone / "training_report.json").read_text())
    assert report["stage2"]["steps"] == [2, 3, 4] and report["control"]["steps"] == []

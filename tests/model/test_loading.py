"""Saving and safely loading transformers and whole pipelines, with one clear error for each bad input."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import save_file

from app.core.errors import ModelLoadError
from app.model.catalog import model_hash
from app.model.kv_compression import (
    KVCompressionConfig,
    apply_kv_compression,
    kv_compression_of,
    released_config,
)
from app.model.loading import load_pipeline_components, load_transformer, save_transformer
from tests.model.tiny import original_state_dict, tiny_inputs, tiny_transformer

WEIGHTS = "diffusion_pytorch_model.safetensors"


def _output(model, inputs):
    with torch.no_grad():
        return model(**inputs).sample


@pytest.fixture
def trained_folder(tmp_path):
    """A saved tiny transformer with trained (non-initial) compression weights on layers 1 and 3."""
    model = tiny_transformer()
    apply_kv_compression(model, KVCompressionConfig(layers=(1, 3), ratio=2))
    with torch.no_grad():
        for block in (1, 3):
            for param in model.transformer_blocks[block].attn1.processor.parameters():
                param.add_(torch.randn_like(param) * 0.1)
    save_transformer(model, tmp_path / "transformer")
    return tmp_path / "transformer", model


def test_save_load_round_trip_restores_compression_settings_and_weights(trained_folder):
    """A saved model loads back with its compression layers, trained weights and outputs unchanged."""
    folder, model = trained_folder
    settings = json.loads((folder / "kv_compression.json").read_text())
    assert settings == {"layers": [1, 3], "ratio": 2, "sampling": "conv", "trained_weights": True}
    loaded = load_transformer(folder)
    assert kv_compression_of(loaded) == KVCompressionConfig(layers=(1, 3))
    expected = model.state_dict()
    assert loaded.state_dict().keys() == expected.keys()
    assert all(torch.equal(loaded.state_dict()[k], expected[k]) for k in expected)
    inputs = tiny_inputs(12, 20)
    assert torch.equal(_output(loaded, inputs), _output(model, inputs))


def test_settings_without_weights_load_training_free(tmp_path):
    """A folder naming a compression its weights lack gets the averaging init (the released checkpoints' case)."""
    model = tiny_transformer()
    save_transformer(model, tmp_path)
    (tmp_path / "kv_compression.json").write_text(json.dumps(released_config(4).to_dict()))
    loaded = load_transformer(tmp_path, dtype=torch.bfloat16)
    processor = loaded.transformer_blocks[2].attn1.processor
    assert kv_compression_of(loaded) == released_config(4)
    assert processor.conv.weight.dtype == torch.bfloat16 and torch.all(processor.conv.weight == 0.25)
    assert loaded.proj_out.weight.dtype == torch.bfloat16


def test_pipeline_folder_loads_its_transformer(trained_folder):
    """Given a pipeline folder, load_transformer uses its transformer/ subfolder."""
    folder, _ = trained_folder
    (folder.parent / "model_index.json").write_text("{}")
    assert kv_compression_of(load_transformer(folder.parent)) == KVCompressionConfig(layers=(1, 3))


def _break(folder, how):
    """Damage a saved transformer folder one way."""
    weights = folder / WEIGHTS
    if how == "no config":
        (folder / "config.json").unlink()
    elif how == "no weights":
        weights.unlink()
    elif how == "truncated":
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    elif how == "garbage":
        weights.write_bytes(b"\x00" * 64)
    elif how == "other class":
        config = json.loads((folder / "config.json").read_text()) | {"_class_name": "UNet2DConditionModel"}
        (folder / "config.json").write_text(json.dumps(config))
    elif how == "bad settings":
        (folder / "kv_compression.json").write_text('{"layers": [1, 3], "sampling": "median"}')
    else:
        from safetensors.torch import load_file

        tensors = load_file(weights)
        if how == "missing key":
            del tensors["transformer_blocks.0.attn2.to_k.bias"]
        elif how == "unexpected key":
            tensors["transformer_blocks.0.attn1.lora_A.weight"] = torch.zeros(2, 2)
        elif how == "wrong shape":
            tensors["transformer_blocks.1.ff.net.0.proj.weight"] = torch.zeros(48, 16)
        save_file(tensors, weights)


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("no config", "no config.json"),
        ("no weights", "no diffusion_pytorch_model.safetensors"),
        ("truncated", "truncated or corrupt"),
        ("garbage", "truncated or corrupt"),
        ("other class", "UNet2DConditionModel config, not a PixArt transformer"),
        ("bad settings", "sampling must be one of"),
        ("missing key", "missing transformer_blocks.0.attn2.to_k.bias"),
        ("unexpected key", "unexpected transformer_blocks.0.attn1.lora_A.weight"),
        ("wrong shape", "wrong shapes .*transformer_blocks.1.ff.net.0.proj.weight"),
    ],
)
def test_bad_transformer_folder_gives_one_clear_error(trained_folder, how, message):
    """Each kind of broken folder raises ModelLoadError naming the folder or file and what is wrong."""
    folder, _ = trained_folder
    _break(folder, how)
    with pytest.raises(ModelLoadError, match=message) as caught:
        load_transformer(folder)
    assert str(folder) in str(caught.value)


def test_bad_original_checkpoints_give_clear_errors(tmp_path):
    """Pickles with code, corrupt pickles, unnamed resolutions and wrong shapes each name the file and the fault."""
    evil = tmp_path / "evil-1024.pth"
    torch.save({"state_dict": {"x": torch.zeros(1)}, "hook": shutil.rmtree}, evil)
    with pytest.raises(ModelLoadError, match=r"evil-1024\.pth: cannot load it safely, it holds pickled objects"):
        load_transformer(evil)
    corrupt = tmp_path / "corrupt-1024.pth"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ModelLoadError, match=r"corrupt-1024\.pth: cannot load it safely, corrupt"):
        load_transformer(corrupt)
    sd = original_state_dict(width=144, depth=2)
    unnamed = tmp_path / "finetune.safetensors"
    save_file(sd, unnamed)
    with pytest.raises(ModelLoadError, match=r"finetune\.safetensors: the file name does not say the training"):
        load_transformer(unnamed)
    sd["blocks.1.mlp.fc2.weight"] = torch.zeros(144, 100)
    wrong = tmp_path / "wrong-512.safetensors"
    save_file(sd, wrong)
    with pytest.raises(ModelLoadError, match=r"wrong-512\.safetensors: weights have the wrong shapes"):
        load_transformer(wrong)
    sd = original_state_dict(width=144, depth=2) | {"blocks.0.attn.q_norm.weight": torch.zeros(144)}
    extra = tmp_path / "qknorm-512.safetensors"
    save_file(sd, extra)
    with pytest.raises(ModelLoadError, match=r"qknorm-512\.safetensors: unexpected keys .*blocks\.0\.attn\.q_norm"):
        load_transformer(extra)


@pytest.fixture(scope="module")
def pipeline_folder(tmp_path_factory):
    """A tiny PixArt-Σ pipeline folder (T5 tokenizer and encoder, VAE, scheduler, transformer) on disk."""
    from diffusers import AutoencoderKL, DPMSolverMultistepScheduler, PixArtSigmaPipeline
    from transformers import T5Config, T5EncoderModel, T5Tokenizer

    words = ["▁a", "▁red", "▁cat", "▁blue", "▁dog", "▁", "a", "b"]
    tokenizer = T5Tokenizer(vocab=[("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + [(w, -1.0) for w in words])
    torch.manual_seed(0)
    encoder = T5EncoderModel(
        T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=1, num_heads=4)
    )
    vae = AutoencoderKL(
        block_out_channels=(8,),
        down_block_types=("DownEncoderBlock2D",),
        up_block_types=("UpDecoderBlock2D",),
        latent_channels=4,
        norm_num_groups=8,
        sample_size=16,
    )
    transformer = tiny_transformer()
    apply_kv_compression(transformer, released_config(4))
    folder = tmp_path_factory.mktemp("pipeline") / "tiny-pixart"
    PixArtSigmaPipeline(
        tokenizer=tokenizer,
        text_encoder=encoder,
        vae=vae,
        transformer=tiny_transformer(),
        scheduler=DPMSolverMultistepScheduler(),
    ).save_pretrained(folder)
    shutil.rmtree(folder / "transformer")
    save_transformer(transformer, folder / "transformer")
    return folder


def test_pipeline_components_load_from_local_files(pipeline_folder):
    """All five components load, the transformer with its compression, reporting progress up to 100%."""
    stages = []
    components = load_pipeline_components(pipeline_folder, progress=lambda stage, f: stages.append((stage, f)))
    assert type(components.text_encoder).__name__ == "T5EncoderModel"
    assert type(components.vae).__name__ == "AutoencoderKL"
    assert type(components.scheduler).__name__ == "DPMSolverMultistepScheduler"
    assert components.tokenizer("a red cat").input_ids[-1] == components.tokenizer.eos_token_id
    assert kv_compression_of(components.transformer) == released_config(4)
    assert components.info.kv_config == released_config(4) and not components.info.has_trained_kv_weights
    assert (components.info.source, components.info.native_resolution) == ("folder", 64)
    assert stages[-1] == ("ready", 1.0)


def test_transformer_override_combines_with_a_base_pipeline(pipeline_folder, tmp_path):
    """An original checkpoint file replaces the base pipeline's transformer, converted in memory."""
    checkpoint = tmp_path / "override-512.pth"
    sd = original_state_dict(width=144, depth=2, caption=32, kv_layers=(1,))
    torch.save({"state_dict": sd}, checkpoint)
    components = load_pipeline_components(pipeline_folder, transformer=checkpoint)
    assert components.transformer.config.num_layers == 2
    assert components.info.name == "override-512"
    assert components.info.has_trained_kv_weights and components.info.native_resolution == 512
    assert model_hash(components.info.path) == model_hash(checkpoint) != model_hash(pipeline_folder)


def test_missing_component_names_it_and_keeps_nothing(pipeline_folder, tmp_path):
    """A pipeline folder without vae/ fails before loading anything heavy, saying which component is missing."""
    broken = tmp_path / "broken"
    shutil.copytree(pipeline_folder, broken)
    shutil.rmtree(broken / "vae")
    with pytest.raises(ModelLoadError, match=r"broken: the model folder is missing its vae/ component"):
        load_pipeline_components(broken)
    shutil.copytree(pipeline_folder / "vae", broken / "vae")
    (broken / "text_encoder" / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
    with pytest.raises(ModelLoadError, match=r"text_encoder: the text encoder cannot be loaded"):
        load_pipeline_components(broken)

"""Original PixArt checkpoints ⇄ diffusers: key mapping, config inference, equal outputs, the convert command."""

from __future__ import annotations

import pytest
import torch
from diffusers import PixArtTransformer2DModel
from safetensors.torch import save_file

from app.cli import main
from app.model.conversion import diffusers_to_original, original_to_diffusers
from app.model.kv_compression import KVCompressionConfig, apply_kv_compression, kv_compression_of
from app.model.layout import infer_resolution
from app.model.loading import load_transformer
from app.model.weights_io import read_weights
from tests.model.tiny import HEAD_DIM, original_state_dict, tiny_config, tiny_inputs


def _direct_model(sd: dict[str, torch.Tensor], kv_layers: tuple[int, ...], **overrides) -> PixArtTransformer2DModel:
    """A diffusers model given the original weights by hand, one module at a time, following the key table."""
    model = PixArtTransformer2DModel(**tiny_config(**overrides))
    w = model.inner_dim
    if kv_layers:
        apply_kv_compression(model, KVCompressionConfig(layers=kv_layers))

    def put(module: torch.nn.Module, name: str) -> None:
        module.weight.copy_(sd[name + ".weight"])
        module.bias.copy_(sd[name + ".bias"])

    with torch.no_grad():
        put(model.pos_embed.proj, "x_embedder.proj")
        put(model.adaln_single.emb.timestep_embedder.linear_1, "t_embedder.mlp.0")
        put(model.adaln_single.emb.timestep_embedder.linear_2, "t_embedder.mlp.2")
        put(model.adaln_single.linear, "t_block.1")
        put(model.caption_projection.linear_1, "y_embedder.y_proj.fc1")
        put(model.caption_projection.linear_2, "y_embedder.y_proj.fc2")
        put(model.proj_out, "final_layer.linear")
        model.scale_shift_table.copy_(sd["final_layer.scale_shift_table"])
        if overrides.get("use_additional_conditions"):
            put(model.adaln_single.emb.resolution_embedder.linear_1, "csize_embedder.mlp.0")
            put(model.adaln_single.emb.resolution_embedder.linear_2, "csize_embedder.mlp.2")
            put(model.adaln_single.emb.aspect_ratio_embedder.linear_1, "ar_embedder.mlp.0")
            put(model.adaln_single.emb.aspect_ratio_embedder.linear_2, "ar_embedder.mlp.2")
        for i, block in enumerate(model.transformer_blocks):
            b = f"blocks.{i}."
            block.scale_shift_table.copy_(sd[b + "scale_shift_table"])
            qkv_w, qkv_b = sd[b + "attn.qkv.weight"], sd[b + "attn.qkv.bias"]
            for j, linear in enumerate((block.attn1.to_q, block.attn1.to_k, block.attn1.to_v)):
                linear.weight.copy_(qkv_w[w * j : w * (j + 1)])
                linear.bias.copy_(qkv_b[w * j : w * (j + 1)])
            put(block.attn1.to_out[0], b + "attn.proj")
            put(block.attn2.to_q, b + "cross_attn.q_linear")
            kv_w, kv_b = sd[b + "cross_attn.kv_linear.weight"], sd[b + "cross_attn.kv_linear.bias"]
            block.attn2.to_k.weight.copy_(kv_w[:w])
            block.attn2.to_k.bias.copy_(kv_b[:w])
            block.attn2.to_v.weight.copy_(kv_w[w:])
            block.attn2.to_v.bias.copy_(kv_b[w:])
            put(block.attn2.to_out[0], b + "cross_attn.proj")
            put(block.ff.net[0].proj, b + "mlp.fc1")
            put(block.ff.net[2], b + "mlp.fc2")
            if i in kv_layers:
                put(block.attn1.processor.conv, b + "attn.sr")
                put(block.attn1.processor.norm, b + "attn.norm")
    return model.eval()


def test_round_trip_is_lossless_including_compression_weights():
    """original → diffusers → original gives back every tensor bit for bit, compression and extras included."""
    sd = original_state_dict(kv_layers=(2, 3))
    converted = original_to_diffusers(sd, resolution=64, attention_head_dim=HEAD_DIM)
    assert "transformer_blocks.2.attn1.processor.conv.weight" in converted.state_dict
    assert "pos_embed" not in converted.state_dict and "y_embedder.y_embedding" in converted.extras
    back = diffusers_to_original(converted.state_dict, converted.extras)
    assert back.keys() == sd.keys()
    assert all(torch.equal(back[k], sd[k]) for k in sd)


def test_converted_model_computes_what_a_directly_built_model_computes(tmp_path):
    """An original checkpoint loaded through load_transformer gives the output of a model built by hand from it."""
    sd = original_state_dict(width=144, kv_layers=(2, 3))  # 2 heads of PixArt's 72 channels
    path = tmp_path / "PixArt-Sigma-tiny-512.safetensors"
    save_file(sd, path)
    loaded = load_transformer(path)
    direct = _direct_model(
        sd, kv_layers=(2, 3), attention_head_dim=72, cross_attention_dim=144, sample_size=64, interpolation_scale=1
    )
    assert kv_compression_of(loaded) == KVCompressionConfig(layers=(2, 3), ratio=2, sampling="conv")
    assert (loaded.config.sample_size, loaded.config.interpolation_scale) == (64, 1)
    inputs = tiny_inputs(12, 20)
    with torch.no_grad():
        assert torch.equal(loaded(**inputs).sample, direct(**inputs).sample)


def test_alpha_micro_conditions_map_to_resolution_and_aspect_embedders():
    """PixArt-α csize/ar embedders become the resolution/aspect-ratio embedders and turn micro-conditions on."""
    sd = original_state_dict(width=24, micro_conditions=True)
    converted = original_to_diffusers(sd, resolution=1024, attention_head_dim=12)
    assert converted.config["use_additional_conditions"] is True
    assert torch.equal(
        converted.state_dict["adaln_single.emb.aspect_ratio_embedder.linear_2.weight"], sd["ar_embedder.mlp.2.weight"]
    )
    model = PixArtTransformer2DModel.from_config(converted.config)
    model.load_state_dict(converted.state_dict)  # strict: every key has a home


def test_xl_config_is_inferred_like_diffusers_released_sigma_config():
    """Shapes of the XL checkpoint (on the meta device) give the released PixArt-Σ 1024 and 2K configs."""
    sd = original_state_dict(width=1152, depth=28, caption=4096, device="meta")
    config = original_to_diffusers(sd, resolution=1024).config
    expected = {
        "num_attention_heads": 16,
        "attention_head_dim": 72,
        "num_layers": 28,
        "in_channels": 4,
        "out_channels": 8,
        "patch_size": 2,
        "cross_attention_dim": 1152,
        "caption_channels": 4096,
        "sample_size": 128,
        "interpolation_scale": 2,
        "use_additional_conditions": False,
        "norm_type": "ada_norm_single",
    }
    assert {k: config[k] for k in expected} == expected
    config_2k = original_to_diffusers(sd, resolution=2048).config
    assert (config_2k["sample_size"], config_2k["interpolation_scale"]) == (256, 4)
    assert original_to_diffusers(sd, resolution=256).config["interpolation_scale"] == 0.5


@pytest.mark.parametrize(
    ("name", "resolution"),
    [
        ("PixArt-Sigma-XL-2-1024-MS.pth", 1024),
        ("PixArt-Sigma-XL-2-2K-MS.pth", 2048),
        ("PixArt-Sigma-XL-2-512-MS.pth", 512),
        ("PixArt-Sigma-XL-2-256x256.pth", 256),
        ("my-finetune.safetensors", None),
        ("from-512-to-1024.pth", None),
    ],
)
def test_resolution_is_read_from_the_file_name(name, resolution):
    """256/512/1024/2K in a file name give the training resolution; none or several give None."""
    assert infer_resolution(name) == resolution


def test_convert_command_round_trip(tmp_path, capsys):
    """`convert` writes a loadable folder with its compression, and `--to original` gives the checkpoint back."""
    sd = original_state_dict(width=144, depth=2, kv_layers=(1,))
    src = tmp_path / "PixArt-Sigma-XL-2-512-MS.pth"
    torch.save({"state_dict": sd}, src)
    folder = tmp_path / "converted"
    assert main(["convert", str(src), str(folder)]) == 0
    assert "100%" in capsys.readouterr().err
    model = load_transformer(folder)
    assert (model.config.sample_size, model.config.interpolation_scale, model.config.num_attention_heads) == (64, 1, 2)
    assert kv_compression_of(model) == KVCompressionConfig(layers=(1,))
    back = tmp_path / "back.safetensors"
    assert main(["convert", str(folder), str(back), "--to", "original"]) == 0
    restored = read_weights(back)
    assert restored.keys() == sd.keys() and all(torch.equal(restored[k], sd[k]) for k in sd)


def test_convert_command_takes_the_head_size_of_a_model_that_is_not_xl(tmp_path, capsys):
    """A checkpoint whose heads are not 72 wide is refused with a hint, and converts with --head-dim."""
    sd = original_state_dict(width=128, depth=2)
    src = tmp_path / "small-128.pth"
    torch.save(sd, src)
    assert main(["convert", str(src), str(tmp_path / "refused"), "--resolution", "128"]) == 2
    assert "--head-dim" in _one_error_line(capsys)
    folder = tmp_path / "converted"
    assert main(["convert", str(src), str(folder), "--resolution", "128", "--head-dim", "32"]) == 0
    assert load_transformer(folder).config.num_attention_heads == 4


def _one_error_line(capsys) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(lines) == 1
    return lines[0]


def test_convert_command_bad_input_exits_2_with_one_line(tmp_path, capsys):
    """Unknown resolution, another architecture, a truncated file, an existing DEST: exit 2 with one clear line."""
    sd = original_state_dict(width=144, depth=1)
    unnamed = tmp_path / "finetune.safetensors"
    save_file(sd, unnamed)
    assert main(["convert", str(unnamed), str(tmp_path / "out1")]) == 2
    assert "--resolution" in _one_error_line(capsys)

    unet = tmp_path / "unet-1024.safetensors"
    save_file({"conv_in.weight": torch.zeros(4, 4, 3, 3), "time_embedding.linear_1.weight": torch.zeros(4, 4)}, unet)
    assert main(["convert", str(unet), str(tmp_path / "out2")]) == 2
    line = _one_error_line(capsys)
    assert str(unet) in line and "not a PixArt checkpoint" in line

    truncated = tmp_path / "cut-1024.safetensors"
    truncated.write_bytes(unnamed.read_bytes()[:-100])
    assert main(["convert", str(truncated), str(tmp_path / "out3")]) == 2
    assert "truncated or corrupt" in _one_error_line(capsys)

    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    assert main(["convert", str(unnamed), str(tmp_path / "taken"), "--resolution", "512"]) == 2
    assert "already exists" in _one_error_line(capsys)
    assert not (tmp_path / "out1").exists() and not (tmp_path / "out2").exists()

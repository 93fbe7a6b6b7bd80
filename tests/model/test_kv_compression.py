"""KV token compression on diffusers' PixArt transformer: exactness, the reference, settings and parameter count."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from diffusers import PixArtTransformer2DModel

from app.model.kv_compression import (
    KVCompressionConfig,
    apply_kv_compression,
    kv_compression_enabled,
    kv_compression_of,
    released_config,
    remove_kv_compression,
    set_kv_compression_enabled,
)
from tests.model.tiny import tiny_inputs, tiny_transformer


def _output(model: PixArtTransformer2DModel, inputs: dict) -> torch.Tensor:
    with torch.no_grad():
        return model(**inputs).sample


class ReferenceCompressedAttention:
    """Self-attention with R×R-compressed keys/values, written from the paper's description with explicit loops."""

    def __init__(self, grid: tuple[int, int], ratio: int, sampling: str, conv=None, norm=None) -> None:
        self.grid, self.ratio, self.sampling = grid, ratio, sampling
        self.conv_weight = None if conv is None else conv.weight.detach().clone()  # C, 1, R, R
        self.conv_bias = None if conv is None else conv.bias.detach().clone()
        self.norm_weight = None if norm is None else norm.weight.detach().clone()
        self.norm_bias = None if norm is None else norm.bias.detach().clone()

    def downsample(self, x: torch.Tensor) -> torch.Tensor:
        """Row-major tokens → kept grid cells; trailing rows/columns that don't fill an R×R cell are dropped."""
        height, width = self.grid
        r = self.ratio
        kept = []
        for i in range(height // r):
            for j in range(width // r):
                if self.sampling in ("uniform", "ave"):  # nearest neighbour by 1/R: source token (R·i, R·j)
                    kept.append(x[:, (i * r) * width + j * r])
                    continue
                cell = torch.zeros_like(x[:, 0])
                for a in range(r):
                    for b in range(r):
                        cell = cell + self.conv_weight[:, 0, a, b] * x[:, (i * r + a) * width + (j * r + b)]
                kept.append(cell + self.conv_bias)
        y = torch.stack(kept, dim=1)
        if self.sampling == "conv":
            mean = y.mean(-1, keepdim=True)
            var = ((y - mean) ** 2).mean(-1, keepdim=True)
            y = (y - mean) / torch.sqrt(var + 1e-5) * self.norm_weight + self.norm_bias
        return y

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, **kwargs):
        assert encoder_hidden_states is None and attention_mask is None
        q = attn.to_q(hidden_states)
        k = self.downsample(attn.to_k(hidden_states))
        v = self.downsample(attn.to_v(hidden_states))
        batch, heads = q.shape[0], attn.heads
        d = q.shape[-1] // heads
        q, k, v = (t.reshape(batch, -1, heads, d).permute(0, 2, 1, 3) for t in (q, k, v))
        weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), dim=-1)
        out = (weights @ v).permute(0, 2, 1, 3).reshape(batch, -1, heads * d)
        return attn.to_out[0](out)


def test_compression_off_is_bit_identical_to_diffusers():
    """Bypassed, removed, R = 1 or no layers: the output equals plain diffusers exactly."""
    plain = tiny_transformer()
    inputs = tiny_inputs(12, 20)
    expected = _output(plain, inputs)
    model = copy.deepcopy(plain)
    apply_kv_compression(model, KVCompressionConfig(layers=(0, 2, 3), ratio=2))
    assert not torch.equal(_output(model, inputs), expected)
    set_kv_compression_enabled(model, False)
    assert torch.equal(_output(model, inputs), expected)
    for config in (KVCompressionConfig(layers=(0, 1, 2, 3), ratio=1), KVCompressionConfig(layers=())):
        other = copy.deepcopy(plain)
        apply_kv_compression(other, config)
        assert kv_compression_of(other) is None
        assert torch.equal(_output(other, inputs), expected)
    remove_kv_compression(model)
    assert kv_compression_of(model) is None and not model._forward_pre_hooks
    assert torch.equal(_output(model, inputs), expected)


@pytest.mark.parametrize("sampling", ["conv", "uniform", "ave"])
@pytest.mark.parametrize(
    ("latent", "ratio"),
    [((16, 16), 2), ((12, 20), 2), ((14, 10), 2), ((12, 20), 3)],
    ids=["square-8x8", "wide-6x10", "odd-7x5", "R3-6x10-not-divisible"],
)
def test_compressed_transformer_matches_reference(sampling, latent, ratio):
    """The whole transformer with compression equals one using the written-out reference attention (float64)."""
    model = tiny_transformer().double()
    layers = (1, 3)
    apply_kv_compression(model, KVCompressionConfig(layers=layers, ratio=ratio, sampling=sampling))
    if sampling == "conv":  # trained-looking weights, so a wrong use of conv or norm weights shows
        with torch.no_grad():
            for i in layers:
                for param in model.transformer_blocks[i].attn1.processor.parameters():
                    param.add_(torch.randn_like(param) * 0.2)
    reference = tiny_transformer().double()
    grid = (latent[0] // 2, latent[1] // 2)
    for i in layers:
        processor = model.transformer_blocks[i].attn1.processor
        reference.transformer_blocks[i].attn1.set_processor(
            ReferenceCompressedAttention(
                grid, ratio, sampling, getattr(processor, "conv", None), getattr(processor, "norm", None)
            )
        )
    inputs = tiny_inputs(*latent, dtype=torch.float64)
    actual = _output(model, inputs)
    torch.testing.assert_close(actual, _output(reference, inputs), rtol=1e-9, atol=1e-9)
    set_kv_compression_enabled(model, False)
    assert (actual - _output(model, inputs)).abs().max() > 1e-3  # compression really changed the result


def test_ave_and_uniform_pick_the_same_tokens():
    """As in the original code, nearest-neighbour "ave" keeps the same tokens as "uniform"."""
    outputs = []
    for sampling in ("uniform", "ave"):
        model = tiny_transformer().double()
        apply_kv_compression(model, KVCompressionConfig(layers=(0, 1), ratio=2, sampling=sampling))
        outputs.append(_output(model, tiny_inputs(14, 10, dtype=torch.float64)))
    torch.testing.assert_close(*outputs, rtol=1e-12, atol=1e-12)  # memory layouts differ, so not bitwise


def test_token_grid_is_taken_from_keyword_latents():
    """The grid hook also sees hidden_states passed by keyword, as training code does."""
    model = tiny_transformer()
    apply_kv_compression(model, KVCompressionConfig(layers=(0,), ratio=2))
    inputs = tiny_inputs(12, 20)
    by_keyword = _output(model, inputs)
    with torch.no_grad():
        positional = model(inputs.pop("hidden_states"), **inputs).sample
    assert torch.equal(by_keyword, positional)
    assert model.transformer_blocks[0].attn1.processor.token_grid == (6, 10)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_runs_close_to_float32(dtype):
    """Compression works in fp16 and bf16, keeping the dtype and staying near the fp32 result."""
    model = tiny_transformer()
    apply_kv_compression(model, released_config(4))
    expected = _output(model, tiny_inputs(12, 20))
    half = copy.deepcopy(model).to(dtype)
    actual = _output(half, tiny_inputs(12, 20, dtype=dtype))
    assert actual.dtype == dtype
    assert torch.isfinite(actual).all()
    assert (actual.float() - expected).abs().max() < 0.1 * expected.abs().max()


def test_apply_keeps_trained_weights_of_unchanged_layers():
    """Re-applying keeps trained weights where ratio and sampling are unchanged; a new ratio starts at averaging."""
    model = tiny_transformer()
    apply_kv_compression(model, KVCompressionConfig(layers=(1, 2)))
    with torch.no_grad():
        model.transformer_blocks[1].attn1.processor.conv.weight.fill_(0.7)
    apply_kv_compression(model, KVCompressionConfig(layers=(1, 3)))
    assert torch.all(model.transformer_blocks[1].attn1.processor.conv.weight == 0.7)
    assert kv_compression_of(model) == KVCompressionConfig(layers=(1, 3))
    assert "transformer_blocks.2.attn1.processor.conv.weight" not in model.state_dict()
    apply_kv_compression(model, KVCompressionConfig(layers=(1, 3), ratio=4))
    processor = model.transformer_blocks[1].attn1.processor
    assert torch.all(processor.conv.weight == 1 / 16) and torch.all(processor.conv.bias == 0)
    assert processor.norm.eps == 1e-5 and processor.norm.elementwise_affine


def test_enabled_switch_keeps_weights():
    """Disabling bypasses compression but keeps its weights in the state dict; enabling brings it back."""
    model = tiny_transformer()
    apply_kv_compression(model, released_config(4))
    assert kv_compression_enabled(model)
    set_kv_compression_enabled(model, False)
    assert not kv_compression_enabled(model)
    assert "transformer_blocks.3.attn1.processor.norm.bias" in model.state_dict()
    assert kv_compression_of(model) == released_config(4)


def test_grid_smaller_than_ratio_is_a_clear_error():
    """A token grid narrower than R cannot be compressed and says so."""
    model = tiny_transformer()
    apply_kv_compression(model, KVCompressionConfig(layers=(0,), ratio=4))
    with pytest.raises(ValueError, match=r"token grid 8×2 is smaller than the compression ratio 4"):
        _output(model, tiny_inputs(16, 4))


def test_released_config_and_xl_parameter_count():
    """Released setting: layers 14–27, R = 2, conv; it adds exactly 112,896 parameters to the XL model."""
    config = released_config()
    assert config == KVCompressionConfig(layers=tuple(range(14, 28)), ratio=2, sampling="conv")
    with torch.device("meta"):
        xl = PixArtTransformer2DModel(sample_size=128, caption_channels=4096, use_additional_conditions=False)
    before = sum(p.numel() for p in xl.parameters())
    apply_kv_compression(xl, config)
    assert sum(p.numel() for p in xl.parameters()) - before == 112_896 == 14 * (1152 * 4 + 1152 + 2 * 1152)
    assert xl.transformer_blocks[14].attn1.processor.conv.weight.shape == (1152, 1, 2, 2)
    assert not isinstance(xl.transformer_blocks[14].attn2.processor, torch.nn.Module)  # cross-attention untouched


def test_config_dict_round_trip_and_validation():
    """to_dict/from_dict round-trip; each bad field gives a ValueError naming it."""
    config = KVCompressionConfig(layers=(5, 2), ratio=3, sampling="uniform")
    assert config.layers == (2, 5)
    assert KVCompressionConfig.from_dict(config.to_dict()) == config
    bad = [
        ({"layers": [1, -1]}, "layers"),
        ({"layers": [1, 1]}, "layers"),
        ({"layers": "14-27"}, "layers"),
        ({}, "layers"),
        ({"layers": [1], "ratio": 0}, "ratio"),
        ({"layers": [1], "ratio": 2.5}, "ratio"),
        ({"layers": [1], "sampling": "max"}, "sampling"),
    ]
    for data, field in bad:
        with pytest.raises(ValueError, match=field):
            KVCompressionConfig.from_dict(data)
    with pytest.raises(ValueError, match=r"layers \[9\] do not exist"):
        apply_kv_compression(tiny_transformer(), KVCompressionConfig(layers=(9,)))


def test_a_deep_copy_removes_its_own_grid_hook_and_keeps_the_original_working():
    """An EMA-style deep copy of a compressed model drops only its own hook; the original still compresses."""
    model = tiny_transformer()
    apply_kv_compression(model, KVCompressionConfig(layers=(0, 1), ratio=2))
    inputs = tiny_inputs(12, 20)
    expected = _output(model, inputs)
    twin = copy.deepcopy(model)
    remove_kv_compression(twin)
    assert not twin._forward_pre_hooks and not twin._forward_pre_hooks_with_kwargs
    assert len(model._forward_pre_hooks) == 1
    assert torch.equal(_output(model, inputs), expected)
    apply_kv_compression(twin, KVCompressionConfig(layers=(0, 1), ratio=2))
    assert len(twin._forward_pre_hooks) == 1  # installed once again, not twice

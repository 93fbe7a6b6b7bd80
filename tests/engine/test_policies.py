"""Device, dtype, text-encoder placement, KV compression and memory policies."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from app.core.engine_options import DeviceChoice, EngineOptions, Precision, TextEncoderPlacement, VaeTiling
from app.core.errors import InsufficientMemoryError, InvalidRequestError
from app.core.request import GenerationRequest, KVCompressionMode
from app.core.sizes import GenerationPath, HighResMethod, plan_size
from app.engine import device_policy
from app.engine import pipeline as pipeline_module
from app.engine.device_policy import pick_device, pick_dtype, pick_text_encoder
from app.engine.memory import suggestions
from app.engine.pipeline import Pipeline
from app.model.kv_compression import KVCompressionConfig, apply_kv_compression
from app.model.loading import load_pipeline_components

GIB = 1024**3


def test_auto_device_is_cpu_without_accelerators_and_unavailable_choices_are_refused(monkeypatch):
    """Auto falls back to the CPU; asking for CUDA on a machine without it is a clear error."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device_policy, "_mps_available", lambda: False)
    assert pick_device(DeviceChoice.AUTO) == torch.device("cpu")
    with pytest.raises(InvalidRequestError, match="cuda"):
        pick_device(DeviceChoice.CUDA)


def test_auto_dtype_is_bf16_where_supported_else_fp16_on_gpus(monkeypatch):
    """CUDA gets bf16 when supported, fp16 otherwise; MPS fp16; an explicit precision always wins."""
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert pick_dtype(torch.device("cuda")) == torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert pick_dtype(torch.device("cuda")) == torch.float16
    assert pick_dtype(torch.device("mps")) == torch.float16
    assert pick_dtype(torch.device("cuda"), Precision.FP32) == torch.float32


def test_cpu_dtype_is_bf16_only_where_the_cpu_is_fast_at_it(monkeypatch):
    """On the CPU auto picks bf16 only with native bf16 instructions, else fp32."""
    monkeypatch.setattr(device_policy, "cpu_has_fast_bf16", lambda: False)
    assert pick_dtype(torch.device("cpu")) == torch.float32
    monkeypatch.setattr(device_policy, "cpu_has_fast_bf16", lambda: True)
    assert pick_dtype(torch.device("cpu")) == torch.bfloat16


def test_text_encoder_moves_to_the_cpu_on_small_gpus(monkeypatch):
    """Auto keeps T5 on a GPU only when it fits with the rest; 8-bit needs CUDA."""
    cuda = torch.device("cuda")
    monkeypatch.setattr(device_policy, "device_total_memory", lambda device: 12 * GIB)
    assert pick_text_encoder(TextEncoderPlacement.AUTO, cuda, 9 * GIB, 2 * GIB) == (torch.device("cpu"), False)
    monkeypatch.setattr(device_policy, "device_total_memory", lambda device: 24 * GIB)
    assert pick_text_encoder(TextEncoderPlacement.AUTO, cuda, 9 * GIB, 2 * GIB) == (cuda, False)
    assert pick_text_encoder(TextEncoderPlacement.CPU, cuda, 0, 0) == (torch.device("cpu"), False)
    with pytest.raises(InvalidRequestError, match="CUDA"):
        pick_text_encoder(TextEncoderPlacement.INT8, torch.device("cpu"), 0, 0)


def test_memory_refusal_names_the_need_and_suggests_what_to_change(engine, monkeypatch):
    """A job that cannot fit is refused before it starts, with the sizes and a lower tier, refine and CPU T5."""
    monkeypatch.setattr(pipeline_module, "device_free_memory", lambda device: 1024)
    steps = []
    with pytest.raises(InsufficientMemoryError) as refused:
        engine.generate(GenerationRequest("x", width=384, height=216, steps=2), on_step=steps.append)
    message = str(refused.value)
    assert "384×216" in message and "GiB" in message
    assert "lower size tier (256)" in message and "refine" in message
    assert steps == []  # refused before any work


def test_suggestions_fit_the_request():
    """Suggestions offer refine only for direct high-res jobs and tiling only when it is off."""
    direct = plan_size(2048, 2048, 1024, HighResMethod.DIRECT)
    native = plan_size(1024, 1024, 1024)
    assert "the refine path for high resolutions" in suggestions(direct, 1024, VaeTiling.OFF, True)
    assert "tiled VAE decode" in suggestions(direct, 1024, VaeTiling.OFF, True)
    tips = suggestions(native, 1024, VaeTiling.AUTO, False)
    assert not any("refine" in t or "tiled" in t or "CPU" in t for t in tips)


def test_peak_memory_grows_with_the_size_and_shrinks_with_tiling(engine):
    """The estimate counts the weights and grows with the pixels; forced tiling caps the decode part."""
    small = engine.estimate(GenerationRequest("x", width=256, height=256))
    large = engine.estimate(GenerationRequest("x", width=1024, height=1024, kv_compression="off"))
    weights = sum(p.numel() * 4 for m in (engine.components.transformer, engine.components.vae) for p in m.parameters())
    assert small.weights >= weights
    assert large.sampling > 4 * small.sampling * 0.9 and large.decode > small.decode


@pytest.mark.parametrize(
    ("mode", "size", "expected_path", "compressed"),
    [
        (KVCompressionMode.AUTO, (256, 256), GenerationPath.NATIVE, ()),
        (KVCompressionMode.AUTO, (512, 512), GenerationPath.DIRECT, (2, 3)),
        (KVCompressionMode.ON, (256, 256), GenerationPath.NATIVE, (2, 3)),
        (KVCompressionMode.OFF, (512, 512), GenerationPath.DIRECT, ()),
    ],
)
def test_kv_compression_follows_the_mode_and_the_path(engine, mode, size, expected_path, compressed):
    """Auto compresses above native only; on and off force it; the result records what was used."""
    request = GenerationRequest("x", width=size[0], height=size[1], steps=1, kv_compression=mode)
    result = engine.generate(request)[0]
    assert result.path is expected_path
    assert result.kv_compression_layers == compressed
    assert result.kv_compression_ratio == (2 if compressed else 1)


def test_model_with_trained_compression_uses_it_at_native_size(tiny_model_dir):
    """Auto keeps a model's own (trained) compression on even at native size, and off turns it off."""
    components = load_pipeline_components(tiny_model_dir)
    apply_kv_compression(components.transformer, KVCompressionConfig(layers=(1,), ratio=2))
    components.info = dataclasses.replace(components.info, has_trained_kv_weights=True)
    pipeline = Pipeline(components, EngineOptions(precision=Precision.FP32, preview_every=0))
    auto = pipeline.generate(GenerationRequest("x", width=256, height=256, steps=1))[0]
    off = pipeline.generate(GenerationRequest("x", width=256, height=256, steps=1, kv_compression="off"))[0]
    pipeline.close()
    assert auto.kv_compression_layers == (1,) and off.kv_compression_layers == ()

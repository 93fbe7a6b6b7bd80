"""The benchmark harness: its FLOP counts agree with torch's counter, and a smoke run writes a valid report."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from app.model.kv_compression import KVCompressionConfig, apply_kv_compression, released_config
from benchmarks.__main__ import main
from benchmarks.flops import TEXT_TOKENS, block_flops, step_flops
from benchmarks.models import dit_config, random_transformer

CPU = torch.device("cpu")


def _counted(module: torch.nn.Module, *args, **kwargs) -> int:
    """FLOPs torch's own counter sees; the math attention backend makes attention visible to it."""
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        module(*args, **kwargs)
    return counter.get_total_flops()


@pytest.mark.parametrize("ratio", [1, 2])
def test_block_flops_equal_torch_flop_counter(ratio):
    """The FLOP ideal of the KV benchmark counts exactly what torch counts for one block, compressed or not."""
    config = dit_config(smoke=True, num_layers=1, num_attention_heads=4, cross_attention_dim=32)
    model = random_transformer(config, CPU, torch.float32)
    if ratio > 1:
        apply_kv_compression(model, KVCompressionConfig(layers=(0,), ratio=ratio))
    grid, width = 8, 32
    counted = _counted(
        model.transformer_blocks[0],
        torch.randn(1, grid * grid, width),
        encoder_hidden_states=torch.randn(1, TEXT_TOKENS, width),
        encoder_attention_mask=torch.zeros(1, 1, TEXT_TOKENS),
        timestep=torch.randn(1, 6 * width),
    )
    assert counted == sum(block_flops(grid, grid, width, TEXT_TOKENS, ratio).values())


def test_step_flops_equal_torch_flop_counter_with_released_compression():
    """A whole guided step with the released layers compressed: counted FLOPs equal the model's count."""
    config = dit_config(smoke=True)
    model = random_transformer(config, CPU, torch.float32)
    layers = released_config(config["num_layers"]).layers
    apply_kv_compression(model, KVCompressionConfig(layers=layers, ratio=2))
    latent = 16
    counted = _counted(
        model,
        torch.randn(2, 4, latent, latent),
        encoder_hidden_states=torch.randn(2, TEXT_TOKENS, config["caption_channels"]),
        encoder_attention_mask=torch.ones(2, TEXT_TOKENS),
        timestep=torch.tensor([999, 999]),
        added_cond_kwargs={"resolution": None, "aspect_ratio": None},
    )
    expected = step_flops(config, latent, latent, batch=2, compressed_layers=layers, ratio=2)
    assert counted == expected
    assert expected < step_flops(config, latent, latent, batch=2)  # compression saves work


def test_smoke_run_prints_a_table_and_writes_a_valid_report(tmp_path, capsys):
    """A tiny run of three families prints the table and writes JSON with the machine and one row per result."""
    report_file = tmp_path / "results.json"
    assert main(["--smoke", "--device", "cpu", "--only", "kv", "memory", "limit", "--json", str(report_file)]) == 0

    printed = capsys.readouterr().out
    assert "| family | measurement" in printed
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["command"].startswith("python -m benchmarks --smoke")
    assert {"cpu", "cores", "torch", "device_name", "memory_gib"} <= set(report["machine"])
    assert set(report["durations_s"]) == {"kv", "memory", "limit"}
    assert report["complete"] is True
    rows = report["rows"]
    assert {row["family"] for row in rows} == {"kv", "memory", "limit"}
    assert not [row for row in rows if row["name"] == "family crashed"]
    measured = [row for row in rows if row["status"] != "skipped"]
    assert measured and all(math.isfinite(row["value"]) for row in measured)
    assert all(row["skipped"] for row in rows if row["status"] == "skipped")  # every skip says why
    decodes = [row for row in measured if row["name"].startswith("VAE decode") and row["unit"] in ("MiB", "GiB")]
    assert len(decodes) == 2 and all(row["value"] > 0 for row in decodes)  # both child processes reported a peak


def test_image_family_smoke_run_compares_upscale_and_masked_only(tmp_path):
    """The image family runs its four jobs; masked-only samples the native size while whole-image samples 4×."""
    report_file = tmp_path / "image.json"
    assert main(["--smoke", "--device", "cpu", "--only", "image", "--json", str(report_file)]) == 0
    rows = json.loads(report_file.read_text(encoding="utf-8"))["rows"]
    names = [row["name"] for row in rows]
    assert any(name.startswith("masked-only inpaint") and "sampled 128×128" in name for name in names)
    assert any(name.startswith("whole-image inpaint") and "sampled 512×512" in name for name in names)
    ratios = [row for row in rows if row["unit"] == "×"]
    assert len(ratios) == 2 and all(row["value"] > 0 for row in ratios)

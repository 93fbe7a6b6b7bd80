"""The benchmark harness: its FLOP counts agree with torch's counter, and smoke runs write valid reports."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

import benchmarks.__main__ as entry
from app.model.kv_compression import KVCompressionConfig, apply_kv_compression, released_config
from benchmarks.__main__ import main
from benchmarks.budget import Budget
from benchmarks.flops import TEXT_TOKENS, block_flops, step_flops
from benchmarks.harness import Context
from benchmarks.levers_bench import LEVERS, SMOKE_SIZES
from benchmarks.levers_bench import run as run_levers
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


def test_levers_family_smoke_run_times_each_lever_beside_the_current_path(tmp_path, monkeypatch):
    """Every lever runs at both stand-in sizes in both modes, or says why not; exact levers change no output."""
    writes = []
    write = entry._write_report
    monkeypatch.setattr(entry, "_write_report", lambda path, content: (writes.append(content), write(path, content)))
    report_file = tmp_path / "levers.json"
    assert main(["--smoke", "--device", "cpu", "--only", "levers", "--json", str(report_file)]) == 0

    rows = {row["name"]: row for row in json.loads(report_file.read_text(encoding="utf-8"))["rows"]}
    assert not [name for name, row in rows.items() if "crashed" in row["skipped"]]
    assert all(row["skipped"] for row in rows.values() if row["status"] == "skipped")  # every skip says why
    assert len(writes) > 2 and not writes[0]["complete"] and writes[-1]["complete"]  # saved lever by lever
    for size in SMOKE_SIZES:
        for mode in ("off", "released"):
            assert math.isfinite(rows[f"step at {size.label}, compression {mode}: current path"]["value"])
            assert rows[f"step at {size.label}, compression {mode}: current path"]["data"]["backends"]
        for lever in LEVERS:
            if lever.cuda_only:
                assert rows[f"step at {size.label}: {lever.name}"]["skipped"] == "needs a CUDA GPU"
                continue
            for mode in ("off", "released"):
                row = rows[f"step at {size.label}, compression {mode}: {lever.name}"]
                if lever.name.endswith(("on efficient", "on cuDNN")):  # kernels this CPU build lacks
                    assert row["skipped"].startswith(("efficient refused", "cuDNN refused"))
                    continue
                assert row["value"] > 0 and row["data"]["times_s"] and row["data"]["current_times_s"]
                # Every lever computes the same sums; float32 leaves only rounding between them.
                assert row["data"]["max_abs_difference"] <= 1e-5
            if lever.compile_mode is not None:
                assert rows[f"step at {size.label}: {lever.name}, compile time"]["value"] > 0
    native = SMOKE_SIZES[-1].label
    assert rows[f"step at {native}, current path: released ÷ off"]["status"] in ("ok", "MISSED")
    decodes = [row for name, row in rows.items() if name.startswith("VAE decode")]
    assert len(decodes) == 4 and all(row["value"] > 0 for row in decodes)
    assert next(row for row in decodes if "channels-last" in row["name"])["data"]["max_abs_difference"] < 1e-4


def test_levers_family_is_gpu_only_off_smoke(tmp_path):
    """Without CUDA and not smoke-testing, the family measures nothing and says why in one row."""
    rows = run_levers(Context(CPU, quick=False, smoke=False, work=tmp_path))
    assert [(row.name, row.skipped) for row in rows] == [("levers toward the compute floor", "GPU only")]


def test_budget_carries_unused_time_over_and_refuses_what_does_not_fit():
    """A section has its share plus what the one before left; work estimated above what is left does not fit."""
    now = [0.0]
    budget = Budget(clock=lambda: now[0])
    budget.open("4K", 100.0)
    now[0] = 60.0
    assert budget.fits(40.0) and not budget.fits(41.0)
    budget.open("2K", 50.0)
    assert budget.carried == 40.0 and budget.left() == 90.0
    now[0] = 200.0  # overspent: nothing carries, and nothing fits
    budget.open("1K", 10.0)
    assert budget.carried == 0.0 and not budget.fits(11.0)
    assert budget.refusal(11.0) == "time budget: needs about 11 s, 10 s left for 1K"

"""The size line under the size picker shows the memory the engine plans and checks, for every size and device."""

from __future__ import annotations

import itertools

import pytest
import torch

from app.core.engine_options import EngineOptions, Precision, VaeTiling
from app.core.memory_estimate import format_gib
from app.core.request import KVCompressionMode
from app.core.sizes import GenerationPath, HighResMethod
from app.engine.pipeline import Pipeline
from app.store.preferences import PreferencesFile
from app.ui.create.size_summary import SizeSummary
from app.ui.create.state import GenerationSettings, SizeMode
from app.ui.settings.preferences import Preferences

# Native, direct and refine sizes of the tiny model (native 256), and one past the auto-tiling threshold.
SIZES = [(256, 256), (384, 216), (512, 512), (1024, 576), (2304, 2304)]
DEVICES = ["cpu", "cuda", "mps"]
TILINGS = list(VaeTiling)


@pytest.fixture
def window_line(qtbot, tmp_path):
    """A size line bound to its own settings and preferences, as the Create panel has it."""
    state = GenerationSettings()
    preferences = Preferences(PreferencesFile(tmp_path / "preferences.json"), tmp_path)
    summary = SizeSummary(state, preferences)
    qtbot.addWidget(summary)
    return state, preferences, summary


@pytest.mark.parametrize("device", DEVICES)
def test_the_window_line_shows_the_memory_the_engine_plans(engine, window_line, device):
    """For each size, tiling, guidance and KV mode, the line's number is the engine's, in the engine's unit."""
    state, preferences, summary = window_line
    # The engine as the worker would hold it on that device (the weights stay where they are: only the plan counts).
    pipeline = Pipeline(engine.components, engine.options, device=torch.device(device), dtype=torch.float32)
    state.native_resolution = pipeline.native_resolution
    state.memory_profile = pipeline.memory_profile
    state.size_mode, state.tier_scale = SizeMode.CUSTOM, None  # the planner picks the tier, as for typed sizes
    paths = set()
    for (width, height), tiling, guidance, kv, high_res in itertools.product(
        SIZES,
        TILINGS,
        (1.0, 4.5),
        (KVCompressionMode.AUTO, KVCompressionMode.OFF),
        (HighResMethod.AUTO, HighResMethod.ENLARGE),
    ):
        preferences.engine_options = EngineOptions(precision=Precision.FP32, vae_tiling=tiling)
        pipeline.options = preferences.engine_options
        state.custom_width, state.custom_height = width, height
        state.guidance_scale, state.kv_compression, state.high_res = guidance, kv, high_res
        request = state.build_request("demo")
        paths.add(pipeline.plan(request).path)
        planned = pipeline.estimate(request)
        shown = summary.memory_estimate()
        case = f"{width}×{height} {tiling.value} guidance {guidance} kv {kv.value} {high_res.value} on {device}"
        assert shown is not None, case
        assert (shown.sampling, shown.decode, shown.tiled_decode) == (
            planned.sampling,
            planned.decode,
            planned.tiled_decode,
        ), case
        assert f"≈ {format_gib(planned.activations)} working memory" in summary.text(), case
    assert paths == set(GenerationPath)  # the grid covers native, direct, refine and enlarged


def test_the_engine_refusal_and_the_line_use_the_same_unit(engine, window_line, monkeypatch):
    """A refused job names the same GiB figure the line showed for it."""
    from app.core.errors import InsufficientMemoryError
    from app.engine import pipeline as pipeline_module

    state, _, summary = window_line
    state.native_resolution, state.memory_profile = engine.native_resolution, engine.memory_profile
    state.size_mode, state.custom_width, state.custom_height = SizeMode.CUSTOM, 2304, 2304
    monkeypatch.setattr(pipeline_module, "device_free_memory", lambda device: 1024)
    with pytest.raises(InsufficientMemoryError) as refused:
        engine.generate(state.build_request("demo"))
    assert f"needs about {format_gib(summary.memory_estimate().activations)} more" in str(refused.value)

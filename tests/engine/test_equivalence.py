"""The engine's images equal diffusers' PixArtSigmaPipeline on the same components, seed and settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from diffusers import PixArtSigmaPipeline

from app.core.request import GenerationRequest, KVCompressionMode
from app.core.schedulers import SchedulerName
from app.engine.schedulers import make_scheduler


def _reference(pipe: PixArtSigmaPipeline, scheduler: SchedulerName, request: GenerationRequest, **kwargs) -> np.ndarray:
    """diffusers' image for `request`, as uint8 pixels."""
    components = dict(pipe.components)
    components["scheduler"] = make_scheduler(scheduler, pipe.scheduler.config)
    reference = PixArtSigmaPipeline(**components)
    reference.set_progress_bar_config(disable=True)
    output = reference(
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        num_inference_steps=request.steps,
        guidance_scale=request.guidance_scale,
        width=request.width,
        height=request.height,
        generator=torch.Generator("cpu").manual_seed(request.seed),
        clean_caption=False,
        output_type="np",
        **kwargs,
    )
    return (output.images[0] * 255).round().astype(np.int16)


def _pixels(result) -> np.ndarray:
    return np.asarray(result.image).astype(np.int16)


@pytest.mark.parametrize("scheduler", list(SchedulerName))
def test_engine_matches_diffusers_for_every_scheduler(engine, diffusers_pipeline, scheduler):
    """Every sampler gives diffusers' image within 1/255 per pixel with compression off."""
    request = GenerationRequest(
        "A Red Circle on a white background", width=256, height=256, steps=4, seed=11, scheduler=scheduler
    )
    result = engine.generate(request)[0]
    expected = _reference(diffusers_pipeline, scheduler, request)
    assert result.kv_compression_layers == ()
    assert np.abs(_pixels(result) - expected).max() <= 1
    assert expected.std() > 5  # a real picture, not a flat field that would match anything


def test_binned_exact_size_matches_diffusers_resolution_binning(engine, diffusers_pipeline):
    """A size between bins is sampled at diffusers' bin and resized and cropped exactly as diffusers does."""
    request = GenerationRequest(
        "a small boat at sunset", negative_prompt="blurry", width=200, height=150, steps=3, seed=4
    )
    result = engine.generate(request)[0]
    expected = _reference(diffusers_pipeline, request.scheduler, request, use_resolution_binning=True)
    assert result.image.size == (200, 150)
    assert (result.sampled_width, result.sampled_height) != (200, 150)
    assert np.abs(_pixels(result) - expected).max() <= 1


def test_guidance_one_skips_the_negative_branch_like_diffusers(engine, diffusers_pipeline):
    """Guidance 1 runs the unguided model, as diffusers does."""
    request = GenerationRequest("a lighthouse", width=256, height=256, steps=2, guidance_scale=1.0, seed=2)
    result = engine.generate(request)[0]
    expected = _reference(diffusers_pipeline, request.scheduler, request)
    assert np.abs(_pixels(result) - expected).max() <= 1


def test_compression_is_fully_off_again_after_a_compressed_job(engine, diffusers_pipeline):
    """A native job after a compressed one equals diffusers: switching compression off leaves no trace."""
    compressed = GenerationRequest("a forest", width=256, height=256, steps=2, seed=8, kv_compression="on")
    assert engine.generate(compressed)[0].kv_compression_layers
    request = GenerationRequest(
        "a forest", width=256, height=256, steps=2, seed=8, kv_compression=KVCompressionMode.AUTO
    )
    result = engine.generate(request)[0]
    expected = _reference(diffusers_pipeline, request.scheduler, request)
    assert result.kv_compression_layers == ()
    assert np.abs(_pixels(result) - expected).max() <= 1

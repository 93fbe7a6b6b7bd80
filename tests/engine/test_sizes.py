"""Every aspect bin and exact-size request comes out at exactly the requested pixels, on the path it names."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.request import GenerationRequest
from app.core.sizes import GenerationPath, HighResMethod, aspect_ratio_bins
from tests.engine.conftest import NATIVE


def _request(width: int, height: int, **kwargs) -> GenerationRequest:
    return GenerationRequest("a poster", width=width, height=height, steps=1, guidance_scale=1.0, **kwargs)


def test_every_native_bin_is_sampled_as_is(engine):
    """Each of the 256 model's aspect bins is sampled at that bin and returned unresized."""
    for width, height in aspect_ratio_bins(NATIVE).values():
        result = engine.generate(_request(width, height))[0]
        assert result.image.size == (width, height)
        assert (result.sampled_width, result.sampled_height) == (width, height)
        assert result.path is GenerationPath.NATIVE


# Wallpaper, phone and print sizes scaled down by 10 (or to the tiny model's tiers), keeping their ratios.
EXACT_SIZES = [
    (384, 216),  # 3840×2160 UHD
    (512, 144),  # 5120×1440 super ultrawide
    (256, 144),  # 2560×1440 QHD
    (118, 256),  # iPhone 15 Pro 1179×2556
    (108, 240),  # Pixel 8 1080×2400
    (248, 351),  # A4 at 300 DPI, 2480×3508
    (180, 240),  # 18×24 in poster
    (100, 100),  # below native: the half tier
]


@pytest.mark.parametrize(("width", "height"), EXACT_SIZES)
def test_exact_sizes_come_out_at_exactly_the_requested_pixels(engine, width, height):
    """Wallpaper, phone and print sizes are sampled at a covering bin, then resized and centre-cropped exactly."""
    result = engine.generate(_request(width, height))[0]
    assert result.image.size == (width, height)
    assert result.sampled_width >= width and result.sampled_height >= height
    above_native = max(result.sampled_width, result.sampled_height) > 2 * NATIVE
    assert (result.path is GenerationPath.NATIVE) == (not above_native) or result.path is GenerationPath.DIRECT


def test_above_native_is_direct_with_compression_switched_on(engine):
    """A 2× tier size is sampled directly with the released KV compression turned on automatically."""
    result = engine.generate(_request(384, 216))[0]
    assert result.path is GenerationPath.DIRECT
    assert (result.sampled_width, result.sampled_height) == aspect_ratio_bins(2 * NATIVE)[0.57]
    assert result.kv_compression_layers == (2, 3) and result.kv_compression_ratio == 2


def test_enlarge_is_the_native_image_of_its_seed_resized_exactly(engine):
    """Enlarge at the 2× tier samples the native bin, then resizes: the same pixels as asking for the native tier."""
    asked = dict(seed=4, tier_scale=2.0)
    result = engine.generate(_request(384, 216, high_res=HighResMethod.ENLARGE, **asked))[0]
    assert result.path is GenerationPath.ENLARGED and result.image.size == (384, 216)
    assert (result.sampled_width, result.sampled_height) == aspect_ratio_bins(NATIVE)[0.57]
    assert result.kv_compression_layers == ()  # a pass at native size: compressed only with trained weights
    native = engine.generate(_request(384, 216, **(asked | {"tier_scale": 1.0})))[0]
    assert np.array_equal(np.asarray(result.image), np.asarray(native.image))


def _sampling_previews(engine, request: GenerationRequest) -> tuple[list, list]:
    """(sampling, refining) progress of a job as (step, total, preview pixels or None) tuples."""
    phases: dict[str, list] = {"sampling": [], "refining": []}

    def on_step(p) -> None:
        if p.phase in phases:
            phases[p.phase].append((p.step, p.total, None if p.preview is None else np.asarray(p.preview)))

    result = engine.generate(request, on_step=on_step)[0]
    return result, phases["sampling"], phases["refining"]


def test_refine_path_upscales_the_native_pass_and_records_refine(engine):
    """Refine first makes the native image of its seed, then runs strength × steps image-to-image steps at the tier."""
    base_w, base_h = aspect_ratio_bins(NATIVE)[0.57]
    request = GenerationRequest(
        "a city at night", width=384, height=216, steps=4, seed=6, high_res=HighResMethod.REFINE, refine_strength=0.5
    )
    result, sampling, refining = _sampling_previews(engine, request)
    assert result.path is GenerationPath.REFINE
    assert result.image.size == (384, 216)
    assert (result.sampled_width, result.sampled_height) == aspect_ratio_bins(2 * NATIVE)[0.57]
    assert result.kv_compression_layers == (2, 3)
    assert [(s, t) for s, t, _ in sampling] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert [(s, t) for s, t, _ in refining] == [(1, 2), (2, 2)]
    assert refining[1][2].shape == (293, 512, 3)  # a preview of the high-resolution pass, capped at 512 px

    native = GenerationRequest("a city at night", width=base_w, height=base_h, steps=4, seed=6)
    _, native_sampling, _ = _sampling_previews(engine, native)
    assert all(
        (a is None and b is None) or np.array_equal(a, b)
        for (_, _, a), (_, _, b) in zip(sampling, native_sampling, strict=True)
    )


@pytest.mark.parametrize(("strength", "refine_steps"), [(0.05, 1), (1.0, 4)])
def test_refine_runs_strength_times_steps(engine, strength, refine_steps):
    """The image-to-image pass runs the last strength × steps steps (at least one), as diffusers' img2img does."""
    totals = set()
    request = GenerationRequest(
        "a city", width=384, height=216, steps=4, high_res=HighResMethod.REFINE, refine_strength=strength
    )
    engine.generate(request, on_step=lambda p: p.phase == "refining" and totals.add(p.total))
    assert totals == {refine_steps}

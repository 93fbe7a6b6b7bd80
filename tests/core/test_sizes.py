"""Size planning: bins, tiers, exact sizes and the path above native resolution."""

from __future__ import annotations

import pytest

from app.core.errors import InvalidRequestError
from app.core.presets import ASPECT_PRESETS, EXACT_PRESETS, PresetKind
from app.core.sizes import (
    GenerationPath,
    HighResMethod,
    aspect_bin,
    aspect_ratio_bins,
    nearest_bin,
    parse_aspect,
    plan_size,
    size_for_aspect,
    tiers,
)


def test_ported_tables_match_pixart():
    """The 1024 table has PixArt's 33 bins from 0.25 to 4.0 and 1024×1024 for square."""
    bins = aspect_ratio_bins(1024)
    assert len(bins) == 33
    assert min(bins) == 0.25 and max(bins) == 4.0
    assert bins[1.0] == (1024, 1024)
    assert bins[0.25] == (2048, 512)  # (width, height): a wide bin
    assert len(aspect_ratio_bins(2048)) == 40


def test_scaled_table_for_an_unported_resolution_keeps_ratios():
    """A 128-px model gets every ratio, rounded to 16 pixels (so small bins approximate the ratio)."""
    bins = aspect_ratio_bins(128)
    assert bins[1.0] == (128, 128)
    for ratio, (w, h) in bins.items():
        assert w % 16 == 0 and h % 16 == 0
        assert abs(h / w - ratio) / ratio < 0.2


def test_tier_labels_for_the_1024_model():
    """The 1024 model offers 512, 1K, 2K and 4K."""
    assert [t.label for t in tiers(1024)] == ["512", "1K", "2K", "4K"]


@pytest.mark.parametrize("native", [128, 256, 512, 1024, 2048])
def test_every_aspect_preset_at_every_offered_tier_plans_exactly_its_pixels(native):
    """Each tier a model offers makes every aspect preset as a valid size, planned at exactly those pixels."""
    for tier in tiers(native):
        for preset in ASPECT_PRESETS:
            width, height = size_for_aspect(preset.ratio_w, preset.ratio_h, tier.resolution)
            plan = plan_size(width, height, native, tier_scale=tier.scale)
            assert (plan.target_width, plan.target_height) == (width, height)
    assert 1.0 in [tier.scale for tier in tiers(native)]


@pytest.mark.parametrize(
    ("width", "height", "path"),
    [
        (1024, 1024, GenerationPath.NATIVE),
        (2560, 1440, GenerationPath.DIRECT),
        (3840, 2160, GenerationPath.REFINE),
        (5120, 1440, GenerationPath.REFINE),
        (1080, 2400, GenerationPath.DIRECT),
    ],
)
def test_plan_covers_the_requested_pixels(width, height, path):
    """The sampled bin covers the target on both sides, so resize+crop only ever shrinks."""
    plan = plan_size(width, height, 1024)
    assert plan.path is path
    assert plan.width >= width * 0.98 and plan.height >= height * 0.98
    assert (plan.target_width, plan.target_height) == (width, height)


def test_direct_can_be_forced_at_4k():
    """A user may ask for direct sampling at 4K instead of refine."""
    plan = plan_size(3840, 2160, 1024, HighResMethod.DIRECT)
    assert plan.path is GenerationPath.DIRECT
    assert (plan.base_width, plan.base_height) == (plan.width, plan.height)


def test_refine_starts_from_the_native_bin():
    """Refine samples the native bin first, then upscales by the tier scale."""
    plan = plan_size(3840, 2160, 1024, HighResMethod.REFINE)
    assert plan.path is GenerationPath.REFINE
    assert (plan.base_width, plan.base_height) == nearest_bin(3840, 2160, 1024)
    assert plan.upscale == pytest.approx(4.0, rel=0.05)


def test_auto_follows_the_models_measured_choice_and_an_explicit_method_overrides_it():
    """A model whose studio.json says `enlarge` gets its native bin resized under Auto; a user's choice still wins."""
    plan = plan_size(512, 512, 128, tier_scale=4.0, model_method=HighResMethod.ENLARGE)
    assert plan.path is GenerationPath.ENLARGED and plan.tier.resolution == 512
    assert (plan.width, plan.height) == (plan.base_width, plan.base_height) == (128, 128)
    assert plan.needs_resize and plan.upscale == 1.0
    forced = plan_size(512, 512, 128, HighResMethod.REFINE, 4.0, model_method=HighResMethod.ENLARGE)
    assert forced.path is GenerationPath.REFINE and (forced.width, forced.height) == (512, 512)
    assert plan_size(128, 128, 128, model_method=HighResMethod.ENLARGE).path is GenerationPath.NATIVE
    enlarged = plan_size(3840, 2160, 1024, HighResMethod.ENLARGE)
    assert enlarged.path is GenerationPath.ENLARGED
    assert (enlarged.width, enlarged.height) == nearest_bin(3840, 2160, 1024)


@pytest.mark.parametrize(("width", "height"), [(10, 10), (9000, 9000), (4000, 400), (0, 512)])
def test_impossible_sizes_are_refused_with_the_size_named(width, height):
    """Too small, too large or too narrow sizes raise an error naming the problem."""
    with pytest.raises(InvalidRequestError, match=r"width|height|×"):
        plan_size(width, height, 1024)


def test_every_preset_is_plannable():
    """Each aspect and exact-size preset yields a valid plan on the 1024 model."""
    for preset in ASPECT_PRESETS:
        w, h = size_for_aspect(preset.ratio_w, preset.ratio_h, 1024)
        assert plan_size(w, h, 1024).path is GenerationPath.NATIVE
    for exact in EXACT_PRESETS:
        plan_size(exact.width, exact.height, 1024)
    a4 = next(p for p in EXACT_PRESETS if p.name.startswith("A4"))
    assert (a4.width, a4.height, a4.dpi, a4.kind) == (2480, 3508, 300, PresetKind.PRINT)


def test_parse_aspect():
    """'16:9' parses; nonsense names the text."""
    assert parse_aspect("16:9") == (16, 9)
    with pytest.raises(InvalidRequestError, match="wide"):
        parse_aspect("wide")


@pytest.mark.parametrize("native", [128, 256, 512, 1024, 2048])
def test_every_aspect_preset_gives_exactly_its_ratio_sampled_at_its_bin(native):
    """16:9 is 16:9 to the pixel (not the 5:3 or 7:4 bin): the bin is sampled, then cropped (or resized) to it."""
    for tier in tiers(native):
        for preset in ASPECT_PRESETS:
            width, height = size_for_aspect(preset.ratio_w, preset.ratio_h, tier.resolution)
            if float(preset.ratio_w).is_integer() and float(preset.ratio_h).is_integer():
                assert width * preset.ratio_h == height * preset.ratio_w, (native, tier.label, preset.name)
            else:
                assert abs(width / height - preset.ratio_w / preset.ratio_h) < 1 / min(width, height)
            plan = plan_size(width, height, native, tier_scale=tier.scale)
            assert (plan.width, plan.height) == aspect_bin(preset.ratio_w, preset.ratio_h, tier.resolution)


def test_16_9_on_the_demo_and_1024_models_is_cropped_from_its_bin():
    """The demo's 16:9 bins 160×96, 336×192 and 672×384 end at 160×90, 336×189 and 672×378; 1K's at 1344×756."""
    assert [size_for_aspect(16, 9, r) for r in (128, 256, 512, 1024)] == [
        (160, 90),
        (336, 189),
        (672, 378),
        (1344, 756),
    ]
    assert aspect_bin(16, 9, 1024) == (1344, 768)


def test_a_sizes_parse_as_the_windows_a_series_shape():
    """'A4', 'a3 landscape' and 'A portrait' are the 1:√2 shape of the window's A buttons; nonsense names both forms."""
    assert parse_aspect("A4") == parse_aspect("A portrait") == pytest.approx((1, 2**0.5))
    assert parse_aspect("a3 landscape") == pytest.approx((2**0.5, 1))
    with pytest.raises(InvalidRequestError, match="A4"):
        parse_aspect("B5")

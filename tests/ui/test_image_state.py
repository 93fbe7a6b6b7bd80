"""ImageSettings without widgets: sizes each mode makes, the request's image fields, and what is missing."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from PySide6.QtGui import QImage

from app.core.errors import InvalidRequestError
from app.core.source_image import DEFAULT_STRENGTH, GenerationMode, load_mask, load_source, upscale_size
from app.ui.create.image_state import ExtendBy, UpscaleTarget
from app.ui.create.state import GenerationSettings


def _png(width: int, height: int, colour: str = "white") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def _size(state: GenerationSettings) -> tuple[int, int]:
    size = state.target_size()
    return size.width, size.height


@pytest.fixture
def state(qapp: object) -> GenerationSettings:
    """Settings working from a 600×400 source, with the 1024 model."""
    settings = GenerationSettings()
    source = load_source(_png(600, 400))
    settings.image.set_source(source, QImage.fromData(source.png, "PNG"), "photo.png")
    return settings


def test_a_source_switches_text_to_image_to_image_and_clearing_goes_back(state: GenerationSettings) -> None:
    """Choosing a source starts image to image at its size; unticking 'same size' hands the size to the size
    controls; clearing the source is text to image."""
    assert state.image.mode is GenerationMode.IMAGE_TO_IMAGE and state.image.fixed_size() == (600, 400)
    assert not state.image.uses_size_picker
    request = state.build_request("demo")
    assert request.mode is GenerationMode.IMAGE_TO_IMAGE and (request.width, request.height) == (600, 400)
    state.image.keep_source_size = False
    state.aspect = "16:9"
    assert state.image.uses_size_picker
    request = state.build_request("demo")
    assert (request.width, request.height) == _size(state) != (600, 400)
    state.image.clear_source()
    assert state.image.mode is GenerationMode.TEXT and state.build_request("demo").source is None


def test_each_mode_keeps_its_own_strength(state: GenerationSettings) -> None:
    """Inpaint starts at 1.0 and upscale at 0.4; a strength set in one mode comes back with it."""
    state.image.strength = 0.3
    state.image.mode = GenerationMode.INPAINT
    assert state.image.strength == DEFAULT_STRENGTH[GenerationMode.INPAINT]
    state.image.mode = GenerationMode.UPSCALE
    assert state.image.strength == DEFAULT_STRENGTH[GenerationMode.UPSCALE]
    state.image.mode = GenerationMode.IMAGE_TO_IMAGE
    assert state.image.strength == pytest.approx(0.3)


def test_inpaint_needs_a_painted_mask_and_sends_it(state: GenerationSettings) -> None:
    """Without a mask the request names what to do; with one, the mask, blur and masked-only box travel."""
    state.image.mode = GenerationMode.INPAINT
    with pytest.raises(InvalidRequestError, match="the mask is empty"):
        state.build_request("demo")
    mask = load_mask(_png(600, 400, "white"))
    state.image.mask_provider = lambda: mask
    state.image.masked_only, state.image.masked_padding, state.image.mask_blur = True, 48, 7
    request = state.build_request("demo")
    assert request.mask is mask and request.masked_only and request.masked_padding == 48 and request.mask_blur == 7
    assert (request.width, request.height) == (600, 400) and _size(state) == (600, 400)
    assert "box around the mask (+48 px)" in state.image.describe()


def test_outpaint_by_pixels_and_to_an_aspect(state: GenerationSettings) -> None:
    """Pixels per side add up on the canvas; an aspect centres the source; zero is refused with a reason."""
    state.image.mode = GenerationMode.OUTPAINT
    state.image.extend_by = ExtendBy.PIXELS
    state.image.extend_pixels = (0, 100, 200, 0)
    assert state.image.fixed_size() == (800, 500)
    assert state.build_request("demo").extend == (0, 100, 200, 0)
    state.image.extend_by = ExtendBy.ASPECT
    state.image.extend_aspect = "16:9"
    assert state.image.extension() == (55, 0, 56, 0) and state.image.fixed_size() == (711, 400)
    state.image.extend_by = ExtendBy.PIXELS
    state.image.extend_pixels = (0, 0, 0, 0)
    with pytest.raises(InvalidRequestError, match="extension is zero"):
        state.build_request("demo")


def test_upscale_targets_match_the_cli(state: GenerationSettings) -> None:
    """2× doubles; 2K and 4K are the CLI's --tier sizes; custom takes typed pixels; too large is refused."""
    state.image.mode = GenerationMode.UPSCALE
    assert state.image.fixed_size() == (1200, 800)
    state.image.upscale_target = UpscaleTarget.TIER_4K
    assert state.image.fixed_size() == upscale_size(600, 400, 4096)
    state.image.upscale_target = UpscaleTarget.CUSTOM
    state.image.upscale_width, state.image.upscale_height = 3000, 2000
    request = state.build_request("demo")
    assert (request.width, request.height) == (3000, 2000) and request.mode is GenerationMode.UPSCALE
    state.image.upscale_width = 8192 * 2
    with pytest.raises(InvalidRequestError):
        state.plan()


def test_a_mode_without_a_source_says_how_to_get_one(qapp: object) -> None:
    """Image modes without a source refuse to build, naming the ways to choose one."""
    settings = GenerationSettings()
    settings.image.mode = GenerationMode.UPSCALE
    with pytest.raises(InvalidRequestError, match="Use as source"):
        settings.build_request("demo")

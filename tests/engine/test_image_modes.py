"""Working from an image with tiny random models: img2img equals diffusers, inpaint and outpaint keep the source."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from diffusers import DPMSolverMultistepScheduler, PixArtSigmaPipeline
from diffusers.utils.torch_utils import randn_tensor
from PIL import Image, ImageDraw

from app.core.request import GenerationRequest
from app.core.sizes import GenerationPath
from app.core.source_image import GenerationMode, load_mask, load_source
from app.engine.modes.pixels import feather


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _scene(width: int, height: int) -> Image.Image:
    """A picture with structure everywhere: a gradient, a disc and stripes, so any change shows."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    array = np.stack([np.broadcast_to(x, (height, width)), np.broadcast_to(y, (height, width)), (x + y) / 2], axis=2)
    image = Image.fromarray(array.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 8, height // 8, width // 2, height // 2), fill=(220, 30, 30))
    for left in range(0, width, max(8, width // 16)):
        draw.line((left, height * 3 // 4, left, height), fill=(0, 0, 0), width=2)
    return image


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB")).astype(np.int16)


def _reference_img2img(pipe: PixArtSigmaPipeline, source: Image.Image, request: GenerationRequest) -> np.ndarray:
    """diffusers' img2img written from its components: posterior sample, kept timesteps, add_noise, its pipeline."""
    generator = torch.Generator("cpu").manual_seed(request.seed)
    pixels = pipe.image_processor.preprocess(source)
    init = pipe.vae.encode(pixels).latent_dist.sample(generator) * pipe.vae.config.scaling_factor
    scheduler = DPMSolverMultistepScheduler.from_config(
        pipe.scheduler.config, algorithm_type="dpmsolver++", solver_order=2
    )
    scheduler.set_timesteps(request.steps)
    kept = scheduler.timesteps[request.steps - int(request.steps * request.strength) :]
    noise = randn_tensor(init.shape, generator=generator, device=torch.device("cpu"), dtype=torch.float32)
    noised = scheduler.add_noise(init, noise, kept[:1])
    reference = PixArtSigmaPipeline(**{**pipe.components, "scheduler": scheduler})
    reference.set_progress_bar_config(disable=True)
    output = reference(
        prompt=request.prompt,
        num_inference_steps=None,
        timesteps=kept.tolist(),
        guidance_scale=request.guidance_scale,
        width=request.width,
        height=request.height,
        latents=noised,
        clean_caption=False,
        use_resolution_binning=False,
        output_type="np",
    )
    return (output.images[0] * 255).round().astype(np.int16)


@pytest.mark.parametrize("strength", [0.6, 1.0])
def test_img2img_equals_a_reference_from_diffusers_components(engine, diffusers_pipeline, strength):
    """Engine img2img = diffusers' pipeline fed the noised posterior sample and the kept timesteps, within 1/255."""
    source_image = _scene(256, 256)
    source = load_source(_png(source_image))
    request = GenerationRequest.for_source(
        "a red circle", GenerationMode.IMAGE_TO_IMAGE, source, steps=10, seed=4, strength=strength, kv_compression="off"
    )
    ours = _pixels(engine.generate(request)[0].image)
    reference = _reference_img2img(diffusers_pipeline, source_image, request)
    assert np.abs(ours - reference).max() <= 1


def test_img2img_runs_the_kept_part_of_the_schedule(engine):
    """At strength 0.3 of 10 steps, 3 steps run, as diffusers' img2img keeps int(steps × strength)."""
    source = load_source(_png(_scene(256, 256)))
    steps = []
    request = GenerationRequest.for_source("x", "img2img", source, steps=10, strength=0.3)
    engine.generate(request, on_step=lambda p: steps.append((p.phase, p.total)))
    assert {total for phase, total in steps if phase == "sampling"} == {3}


def test_inpaint_keeps_every_pixel_outside_the_feathered_mask(engine):
    """Outside the mask (clear of its feather) the result is the source's own pixels; inside it changed."""
    source_image = _scene(256, 192)
    mask = Image.new("L", source_image.size, 0)
    mask.paste(255, (160, 96, 256, 192))
    request = GenerationRequest.for_source(
        "a blue square", "inpaint", load_source(_png(source_image)), mask=load_mask(_png(mask)), steps=4, mask_blur=6
    )
    result = engine.generate(request)[0]
    assert result.image.size == (256, 192)
    clear = np.asarray(feather(mask, 6)) == 0
    ours, source = _pixels(result.image), _pixels(source_image)
    assert np.array_equal(ours[clear], source[clear])
    assert np.abs(ours[120:, 180:] - source[120:, 180:]).mean() > 10


def test_masked_only_on_a_large_source_changes_nothing_outside_the_box_and_samples_native(engine):
    """A small mask in a 4×-native image is inpainted at the native size; nothing outside its padded box moves."""
    source_image = _scene(1024, 1024)
    mask = Image.new("L", source_image.size, 0)
    mask.paste(255, (700, 600, 780, 660))
    request = GenerationRequest.for_source(
        "a blue square",
        "inpaint",
        load_source(_png(source_image)),
        mask=load_mask(_png(mask)),
        steps=3,
        masked_only=True,
        masked_padding=32,
        mask_blur=4,
    )
    result = engine.generate(request)[0]
    assert result.image.size == (1024, 1024)
    assert result.sampled_width * result.sampled_height <= 256 * 256 * 1.1  # a native-size job
    assert result.path is GenerationPath.NATIVE
    ours, source = _pixels(result.image), _pixels(source_image)
    changed = np.nonzero(np.abs(ours - source).max(axis=2))
    # The box: the feathered mask's bounds plus the padding, grown to a native bin's aspect.
    assert changed[0].min() >= 600 - 32 - 40 and changed[0].max() < 660 + 32 + 40
    assert changed[1].min() >= 700 - 32 - 40 and changed[1].max() < 780 + 32 + 40
    assert np.abs(ours[610:650, 710:770] - source[610:650, 710:770]).mean() > 10


def test_outpaint_keeps_the_source_in_place_on_the_larger_canvas(engine):
    """The source's pixels sit at (left, top) of the extended canvas, unchanged clear of the seam."""
    source_image = _scene(192, 192)
    request = GenerationRequest.for_source(
        "a wide view", "outpaint", load_source(_png(source_image)), extend=(64, 0, 0, 64), steps=3, mask_blur=4
    )
    result = engine.generate(request)[0]
    assert result.image.size == (256, 256)
    inner = _pixels(result.image)[16:176, 80:240]  # the source's area, 16 px clear of the seam
    assert np.array_equal(inner, _pixels(source_image)[16:176, 16:176])


def test_upscale_reaches_the_exact_size_through_the_refine_machinery_with_kv_compression(engine):
    """An upscale to 4× native gives exactly the requested pixels, sampled once with KV compression on."""
    source = load_source(_png(_scene(256, 256)))
    request = GenerationRequest.for_source("x", "upscale", source, width=1000, height=1000, steps=4, strength=0.3)
    seen = []
    result = engine.generate(request, on_step=lambda p: seen.append(p.phase))[0]
    assert result.image.size == (1000, 1000)
    assert result.path is GenerationPath.REFINE and result.kv_compression_ratio > 1 and result.kv_compression_layers
    assert (result.sampled_width, result.sampled_height) == (1024, 1024)
    assert "sampling" in seen and "refining" not in seen  # one pass from the source, no text pass first


def test_upscale_is_refused_like_a_text_job_when_it_cannot_fit(engine, monkeypatch):
    """The memory estimate and refusal rules of a 4K generation apply to an upscale to 4K."""
    import app.engine.pipeline as pipeline_module
    from app.core.errors import InsufficientMemoryError

    monkeypatch.setattr(pipeline_module, "device_free_memory", lambda device: 1024)
    source = load_source(_png(_scene(256, 256)))
    request = GenerationRequest.for_source("x", "upscale", source, width=1024, height=1024, steps=2)
    with pytest.raises(InsufficientMemoryError):
        engine.generate(request)

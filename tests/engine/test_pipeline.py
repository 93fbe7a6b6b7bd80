"""The engine's pipeline: seeds, batches, cancel, previews, prompt handling and failures."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from diffusers.image_processor import PixArtImageProcessor
from diffusers.pipelines.pixart_alpha.pipeline_pixart_alpha import ASPECT_RATIO_256_BIN

import app.engine.denoise as denoise_module
import app.engine.pipeline as pipeline_module
from app.core.engine_options import EngineOptions, Precision
from app.core.errors import (
    GenerationCancelledError,
    GenerationFailedError,
    InsufficientMemoryError,
    InvalidRequestError,
)
from app.core.request import GenerationRequest
from app.engine.pipeline import Pipeline, StepProgress
from app.engine.previews import preview_size
from app.model.loading import load_pipeline_components


def _pixels(result) -> np.ndarray:
    return np.asarray(result.image).astype(np.int16)


def test_same_seed_gives_the_same_image_and_another_seed_another(engine):
    """A seed reproduces its image exactly; a different seed gives a different one."""
    request = GenerationRequest("a yellow star", width=256, height=256, steps=3, seed=21)
    first, again = engine.generate(request)[0], engine.generate(request)[0]
    other = engine.generate(request.with_seed(22))[0]
    assert np.array_equal(_pixels(first), _pixels(again))
    assert np.abs(_pixels(first) - _pixels(other)).mean() > 2


def test_batch_uses_consecutive_seeds_each_equal_to_its_single_image(engine):
    """A batch of 3 from seed 5 holds the images of seeds 5, 6 and 7, each as if made alone."""
    request = GenerationRequest("a blue square", width=256, height=192, steps=2, seed=5, batch_size=3)
    results = engine.generate(request)
    assert [r.request.seed for r in results] == [5, 6, 7]
    assert all(r.request.batch_size == 1 for r in results)
    for result in results:
        alone = engine.generate(request.with_seed(result.request.seed))[0]
        assert np.array_equal(_pixels(result), _pixels(alone))


def test_progress_reports_every_step_with_phases_and_image_index(engine):
    """The callback sees encoding, each sampling step with its total, and decoding, for every image of a batch."""
    seen: list[StepProgress] = []
    engine.generate(GenerationRequest("a dot", width=256, height=256, steps=3, batch_size=2), on_step=seen.append)
    sampling = [(p.image_index, p.step, p.total) for p in seen if p.phase == "sampling"]
    assert sampling == [(0, 1, 3), (0, 2, 3), (0, 3, 3), (1, 1, 3), (1, 2, 3), (1, 3, 3)]
    assert seen[0].phase == "encoding"
    assert [p.image_index for p in seen if p.phase == "decoding"] == [0, 1]
    assert all(p.image_count == 2 and p.eta_s >= 0 and p.elapsed_s >= 0 for p in seen)
    assert seen[-1].elapsed_s >= seen[1].elapsed_s


def test_previews_come_every_n_steps_at_the_image_aspect(engine):
    """With previews every 2 steps, steps 2 and 4 of 5 carry an RGB preview shaped like the image."""
    previews: dict[int, object] = {}

    def on_step(progress: StepProgress) -> None:
        if progress.phase == "sampling":
            previews[progress.step] = progress.preview

    engine.generate(GenerationRequest("a robot", width=336, height=192, steps=5), on_step=on_step)
    assert [step for step, image in previews.items() if image is not None] == [2, 4]
    assert previews[2].mode == "RGB" and previews[2].size == (336, 192)


def test_a_job_without_a_listener_makes_no_previews(engine, monkeypatch):
    """Previews exist for a progress listener; a job without one (DemoBench, a script) must not pay for them."""

    def no_preview(*args, **kwargs):
        raise AssertionError("a preview was made for a job nobody listens to")

    for module, name in (
        (pipeline_module, "decoded_preview"),
        (pipeline_module, "preview_image"),
        (denoise_module, "predicted_clean_latent"),
    ):
        monkeypatch.setattr(module, name, no_preview)
    [result] = engine.generate(GenerationRequest("a robot", width=336, height=192, steps=4))
    assert result.image.size == (336, 192)


def test_previews_are_capped_at_512_pixels(engine):
    """A preview of a larger-than-512 sample is scaled down to 512 px on its long side."""
    sizes = []
    engine.generate(
        GenerationRequest("a bridge", width=672, height=384, steps=2, guidance_scale=1.0),
        on_step=lambda p: p.preview is not None and sizes.append(p.preview.size),
    )
    assert sizes == [preview_size(672, 384)] and max(sizes[0]) == 512


@pytest.mark.parametrize("cancel_at", [1, 3])
def test_cancel_at_step_k_stops_before_step_k_plus_one(engine, cancel_at):
    """Setting the cancel event during step k ends the job before another step runs, and frees the engine."""
    cancel = threading.Event()
    steps: list[int] = []

    def on_step(progress: StepProgress) -> None:
        if progress.phase == "sampling":
            steps.append(progress.step)
            if progress.step == cancel_at:
                cancel.set()

    request = GenerationRequest("a fox", width=256, height=256, steps=6, seed=3)
    with pytest.raises(GenerationCancelledError):
        engine.generate(request, on_step=on_step, cancel_event=cancel)
    assert steps == list(range(1, cancel_at + 1))
    after = engine.generate(request)[0]  # the engine is ready for the next job, and unchanged by the cancel
    assert np.array_equal(_pixels(after), _pixels(engine.generate(request)[0]))


def test_cancel_in_a_batch_keeps_the_images_already_made(engine):
    """Cancelling during the second image of a batch still hands over the first, with its own seed."""
    cancel = threading.Event()
    delivered = []

    def on_step(progress: StepProgress) -> None:
        if progress.image_index == 1 and progress.phase == "sampling":
            cancel.set()

    request = GenerationRequest("a fox", width=256, height=256, steps=2, seed=11, batch_size=3)
    with pytest.raises(GenerationCancelledError):
        engine.generate(request, on_step=on_step, cancel_event=cancel, on_result=delivered.append)
    assert [result.request.seed for result in delivered] == [11]


def test_new_seed_or_size_reuses_the_encoded_prompt(engine):
    """The text encoder runs once for a prompt; other seeds and sizes take its embeddings from the cache."""
    calls = []
    hook = engine.components.text_encoder.register_forward_hook(lambda *args: calls.append(1))
    try:
        engine.generate(GenerationRequest("a snowy village at dusk", width=256, height=256, steps=1, seed=1))
        first = len(calls)
        engine.generate(GenerationRequest("a snowy village at dusk", width=192, height=320, steps=1, seed=2))
    finally:
        hook.remove()
    assert first in (1, 2)  # the prompt, and the empty negative prompt unless another test encoded it already
    assert len(calls) == first


def test_long_prompt_is_truncated_and_reported(engine):
    """A prompt over 300 T5 tokens still generates; the result says how long it was and that it was cut."""
    prompt = " ".join(["a red circle and a blue square"] * 80)
    result = engine.generate(GenerationRequest(prompt, width=256, height=256, steps=1))[0]
    assert result.prompt_tokens > 300 and result.prompt_truncated
    assert any("300" in warning for warning in result.warnings)


def test_empty_prompt_generates_with_a_warning(engine):
    """An empty prompt is allowed; the result carries a warning."""
    result = engine.generate(GenerationRequest("", width=256, height=256, steps=1))[0]
    assert result.image.size == (256, 256)
    assert any("empty" in warning for warning in result.warnings)
    assert not result.prompt_truncated


def test_control_characters_do_not_change_the_image(engine):
    """Control characters are stripped before encoding: the image equals the clean prompt's."""
    dirty = engine.generate(GenerationRequest("a red\x00 circle\x1b", width=256, height=256, steps=2))[0]
    clean = engine.generate(GenerationRequest("a red circle", width=256, height=256, steps=2))[0]
    assert np.array_equal(_pixels(dirty), _pixels(clean))


def test_result_records_how_the_image_was_made(engine):
    """The result names the model, device, dtype, sampled size and timing."""
    result = engine.generate(GenerationRequest("a cup", width=200, height=150, steps=1, seed=9))[0]
    assert (result.model_name, result.device, result.dtype) == (engine.info.name, "cpu", "float32")
    assert len(result.model_hash) == 10
    bin_h, bin_w = PixArtImageProcessor.classify_height_width_bin(150, 200, ratios=ASPECT_RATIO_256_BIN)
    assert (result.sampled_width, result.sampled_height) == (bin_w, bin_h)
    assert result.duration_s > 0 and result.request.seed == 9


def test_seed_overflowing_the_batch_is_refused(engine):
    """A batch whose last seed would pass the maximum is a bad request, not a crash."""
    request = GenerationRequest("x", width=256, height=256, steps=1, seed=2**63 - 1, batch_size=2)
    with pytest.raises(InvalidRequestError, match="seed"):
        engine.generate(request)


def test_nan_in_the_latents_fails_instead_of_saving_a_black_image(tiny_model_dir):
    """A model that produces NaN raises GenerationFailedError naming NaN; no image is returned."""
    components = load_pipeline_components(tiny_model_dir)
    with torch.no_grad():
        components.transformer.proj_out.weight.fill_(float("nan"))
    pipeline = Pipeline(components, EngineOptions(precision=Precision.FP32, preview_every=0))
    with pytest.raises(GenerationFailedError, match="NaN"):
        pipeline.generate(GenerationRequest("a cat", width=256, height=256, steps=2))
    pipeline.close()


def test_closed_pipeline_refuses_to_generate(tiny_model_dir):
    """After close() the models are gone and generate says so."""
    pipeline = Pipeline(load_pipeline_components(tiny_model_dir))
    pipeline.close()
    with pytest.raises(Exception, match="closed"):
        pipeline.generate(GenerationRequest("a cat", width=256, height=256, steps=1))


def test_out_of_memory_while_sampling_becomes_a_clear_error_and_the_engine_recovers(engine, monkeypatch):
    """Running out of memory mid-job raises InsufficientMemoryError with suggestions; the next job works."""
    request = GenerationRequest("a cat", width=384, height=216, steps=2, seed=1)

    def forward(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 8.00 GiB")

    monkeypatch.setattr(engine.components.transformer, "forward", forward)
    with pytest.raises(InsufficientMemoryError, match=r"ran out of memory.*lower size tier"):
        engine.generate(request)

    def out_of_ram(*args, **kwargs):
        raise MemoryError()

    # The CPU's own out-of-memory gets the same advice for this job.
    monkeypatch.setattr(engine.components.transformer, "forward", out_of_ram)
    with pytest.raises(InsufficientMemoryError, match=r"ran out of memory.*lower size tier"):
        engine.generate(request)
    monkeypatch.undo()
    assert engine.generate(request)[0].image.size == (384, 216)

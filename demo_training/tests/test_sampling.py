"""The training code's batched sampler gives the engine's images: the same loop, noise and guidance."""

from __future__ import annotations

import numpy as np
import torch

from app.core.engine_options import EngineOptions, Precision
from app.core.request import GenerationRequest
from app.engine.images import to_pil
from app.engine.pipeline import Pipeline
from demo_training.sampling import sample_images


def test_a_batch_from_the_training_sampler_matches_the_engine_image_for_image():
    """Two seeds sampled together equal the engine's two separate images of the shipped demo model."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors gain nothing from threads on a shared machine
    pipeline = Pipeline.load("demo", options=EngineOptions(precision=Precision.FP32))
    try:
        prompt, seeds, side = "a red circle on a white background", [3, 4], pipeline.native_resolution
        request = GenerationRequest(prompt, width=side, height=side, steps=3, seed=seeds[0], batch_size=2)
        engine_images = pipeline.generate(request)  # leaves the KV compression it used installed, as training has it
        positive = pipeline._encoder.encode(prompt)
        negative = pipeline._encoder.encode("")
        components = pipeline.components
        pixels = sample_images(
            components.transformer,
            components.vae,
            positive.embeds.expand(2, -1, -1),
            positive.mask.expand(2, -1),
            (negative.embeds, negative.mask),
            seeds,
            side,
            side,
            steps=3,
            guidance_scale=request.guidance_scale,
        )
        for engine_result, image in zip(engine_images, to_pil(pixels), strict=True):
            difference = np.abs(np.asarray(engine_result.image, int) - np.asarray(image, int))
            assert difference.max() <= 2  # batching reorders float32 sums; the images are the same
    finally:
        pipeline.close()
        torch.set_num_threads(threads)

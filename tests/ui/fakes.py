"""A fast stand-in for the sampling pipeline, so GUI tests run the real controller and worker without torch."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw

from app.core.errors import GenerationCancelledError
from app.core.memory_estimate import MemoryProfile, ModelShape
from app.core.request import GenerationRequest, GenerationResult
from app.core.sizes import HighResMethod
from app.engine.progress import StepProgress

FAIL_WORD = "explode"  # a prompt containing this word makes the fake pipeline fail
# PixArt-Σ XL's config numbers (16 heads of 72, patch 2, 28 blocks, the SDXL VAE) in float32 on the CPU.
FAKE_PROFILE = MemoryProfile(ModelShape(16, 72, 2, 28, (128, 256, 512, 512)), "cpu", 4, 4, 2, False)


@dataclass(frozen=True)
class FakeInfo:
    """What the worker reads from a pipeline's `info`."""

    name: str = "fake-model"
    native_resolution: int = 512
    is_demo: bool = False
    guidance_scale: float | None = None
    above_native: HighResMethod = HighResMethod.AUTO


def fake_image(request: GenerationRequest) -> Image.Image:
    """A deterministic picture of the request's size: a gradient tinted by the seed, with a circle."""
    hue = request.seed % 256
    gradient = Image.linear_gradient("L").resize((request.width, request.height))
    image = Image.merge("RGB", (gradient, Image.new("L", gradient.size, hue), gradient.transpose(0)))
    ImageDraw.Draw(image).ellipse(
        (request.width * 0.3, request.height * 0.3, request.width * 0.7, request.height * 0.7), fill=(250, 200, 80)
    )
    return image


class FakePipeline:
    """Sleeps `step_s` per step (waking at once on cancel), previews every other step, fails on FAIL_WORD."""

    def __init__(self, step_s: float, gate: threading.Event | None, info: FakeInfo) -> None:
        self.info = info
        self.memory_profile = FAKE_PROFILE
        self._step_s = step_s
        self._gate = gate

    def generate(
        self, request: GenerationRequest, on_step: Any, cancel_event: threading.Event, on_result: Any = None
    ) -> list[Any]:
        """One result per batch image, each after `request.steps` steps."""
        results = []
        started = time.monotonic()
        on_step(StepProgress(0, request.steps, 0.0, 0.0, "encoding", None, 0, request.batch_size))
        for index in range(request.batch_size):
            single = request.with_seed(request.seed + index)
            for step in range(1, request.steps + 1):
                if self._gate is not None:
                    while not self._gate.wait(0.01):
                        if cancel_event.is_set():
                            break
                if cancel_event.wait(self._step_s) or cancel_event.is_set():
                    raise GenerationCancelledError("cancelled")
                if FAIL_WORD in request.prompt:
                    raise RuntimeError("the fake pipeline exploded on purpose")
                preview = fake_image(single).resize((64, 64)) if step % 2 == 0 else None
                elapsed = time.monotonic() - started
                on_step(StepProgress(step, request.steps, elapsed, 0.0, "sampling", preview, index, request.batch_size))
            elapsed = time.monotonic() - started
            on_step(
                StepProgress(request.steps, request.steps, elapsed, 0.0, "decoding", None, index, request.batch_size)
            )
            result = GenerationResult(image=fake_image(single), request=single, model_name="fake-model")
            if on_result is not None:
                on_result(result)  # each image as soon as it is made, as the real pipeline does
            results.append(result)
        return results

    def close(self) -> None:
        """Nothing to free."""


def fake_factory(step_s: float = 0.0, gate: threading.Event | None = None, info: FakeInfo = FakeInfo()) -> Any:
    """A pipeline_factory for EngineController; every model it loads is described by `info`."""

    def factory(model: str, transformer: str | None = None, options: Any = None, progress: Any = None) -> FakePipeline:
        if progress is not None:
            progress("loading the fake model", 0.5)
        return FakePipeline(step_s, gate, info)

    return factory

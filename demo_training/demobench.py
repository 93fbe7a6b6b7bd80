"""DemoBench: a fixed set of shapes-world prompts, seeds and sizes, generated and scored from pixels alone."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from app.core.sizes import aspect_bin
from demo_training.scoring import read_image, score
from demo_training.shapes_world import Scene, all_scenes

BENCH_SIZE = 216
BENCH_SEED = 20_240_611  # chooses the scenes; image seeds are below, disjoint from training and validation seeds
IMAGE_SEED_BASE = 1_000
VALIDATION_SEED_BASE = 5_000
# Five of nine images at the native square, one each at four other aspect-ratio bins.
ASPECTS: tuple[tuple[int, int], ...] = ((1, 1),) * 5 + ((4, 3), (3, 4), (16, 9), (9, 16))
ATTRIBUTES = ("color", "position", "size", "shape", "all")


@dataclass(frozen=True)
class BenchItem:
    """One DemoBench generation: a scene's prompt, a seed and a size."""

    scene: Scene
    seed: int
    width: int
    height: int


def bench_items(native_resolution: int, count: int = BENCH_SIZE, validation: bool = False) -> list[BenchItem]:
    """DemoBench's fixed items; `validation` gives a disjoint set (other scenes order, other seeds) for training."""
    rng = random.Random(BENCH_SEED + (1 if validation else 0))
    scenes = rng.sample(all_scenes(), count)
    base = VALIDATION_SEED_BASE if validation else IMAGE_SEED_BASE
    items = []
    for i, scene in enumerate(scenes):
        width, height = aspect_bin(*ASPECTS[i % len(ASPECTS)], native_resolution)
        items.append(BenchItem(scene, base + i, width, height))
    return items


def accuracy(items: Sequence[BenchItem], images: Sequence[Image.Image]) -> dict[str, float]:
    """Fraction of images correct per attribute and for all four at once."""
    if len(items) != len(images) or not items:
        raise ValueError(f"need one image per item, got {len(images)} images for {len(items)} items")
    totals = dict.fromkeys(ATTRIBUTES, 0)
    for item, image in zip(items, images, strict=True):
        for name, ok in score(read_image(image), item.scene).items():
            totals[name] += ok
    return {name: totals[name] / len(items) for name in ATTRIBUTES}


def group_by_size(items: Sequence[BenchItem]) -> dict[tuple[int, int], list[int]]:
    """Item indices per (width, height), so each size can be generated as one batch."""
    groups: dict[tuple[int, int], list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault((item.width, item.height), []).append(index)
    return groups


def run_with_engine(
    model_path: str | Path,
    items: Sequence[BenchItem],
    log: Callable[[str], None] = print,
    guidance_scale: float | None = None,
) -> list[Image.Image]:
    """Generate every item through the app's engine at the model's default settings (20 DPM-Solver++ steps, the
    guidance its studio.json recommends or else PixArt-Σ's 4.5), or at `guidance_scale` when given."""
    from app.core.request import GenerationRequest
    from app.core.schedulers import DEFAULT_SCHEDULER, default_guidance
    from app.engine.pipeline import Pipeline

    pipeline = Pipeline.load(model_path)
    guidance = (
        guidance_scale
        if guidance_scale is not None
        else default_guidance(DEFAULT_SCHEDULER, pipeline.info.guidance_scale)
    )
    images = []
    for index, item in enumerate(items):
        request = GenerationRequest(
            prompt=item.scene.prompt, width=item.width, height=item.height, seed=item.seed, guidance_scale=guidance
        )
        images.append(pipeline.generate(request)[0].image)
        if index % 50 == 0:
            log(f"demobench {index}/{len(items)}")
    return images

"""Training data: drawn scenes as tensors, their VAE latents and the prompt embedding table."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import torch
from diffusers import AutoencoderKL

from demo_training.shapes_world import SHAPES, Scene, all_scenes, draw_scene, shape_coverage

# Training images use seeds from here on; DemoBench and validation use seeds far below it.
TRAIN_SEED_BASE = 10_000_000
# Every random stream of a training run (scene picks, drawings, initialisations, batches) has a number k; run seed r
# uses stream r * RUN_STREAMS + k, so run 0 keeps the recipe's original seeds and no two runs share a drawing.
RUN_STREAMS = 1_000
# A latent cell "tells the shape" when the shape and another one drawn in its place differ on this much of its area.
SHAPE_CELL_AREA = 0.1


def run_stream(run: int, stream: int) -> int:
    """Seed of stream `stream` in training run `run`."""
    return run * RUN_STREAMS + stream


def first_drawing_seed(stream: int) -> int:
    """Each stream draws its training images from its own million seeds, all far above the validation seeds."""
    return TRAIN_SEED_BASE + stream * 1_000_000


def to_tensor(images: list) -> torch.Tensor:
    """PIL images (same size) as a (N, 3, H, W) tensor in [-1, 1]."""
    array = np.stack([np.asarray(image, dtype=np.float32) for image in images])  # (N, H, W, 3)
    return torch.from_numpy(array).permute(0, 3, 1, 2) / 127.5 - 1.0


def to_images(pixels: torch.Tensor) -> list:
    """A (N, 3, H, W) tensor in [-1, 1] as PIL images."""
    from PIL import Image

    array = ((pixels.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return [Image.fromarray(a) for a in array]


def draw_batch(scenes: list[Scene], width: int, height: int, seeds: list[int]) -> torch.Tensor:
    """Draw scenes at one size as a (N, 3, H, W) tensor in [-1, 1]."""
    return to_tensor([draw_scene(s, width, height, seed) for s, seed in zip(scenes, seeds, strict=True)])


@dataclass
class LatentSet:
    """Precomputed training examples at one size: scaled VAE latents and indices into the prompt table."""

    latents: torch.Tensor  # (N, 4, h, w)
    prompt_ids: torch.Tensor  # (N,)
    cell_weights: torch.Tensor | None = None  # (N, 1, h, w): extra loss multipliers per latent cell, if any


@torch.no_grad()
def encode_latents(vae: AutoencoderKL, pixels: torch.Tensor, batch: int = 64) -> torch.Tensor:
    """Posterior means of `pixels`, multiplied by the VAE's scaling factor."""
    chunks = [vae.encode(pixels[i : i + batch]).latent_dist.mean for i in range(0, len(pixels), batch)]
    return torch.cat(chunks) * vae.config.scaling_factor


def make_latent_set(
    vae: AutoencoderKL,
    count: int,
    width: int,
    height: int,
    seed: int,
    shape_odds: dict[str, float] | None = None,
    shape_cell_weight: float = 0.0,
) -> LatentSet:
    """`count` random scenes at `width`×`height` from stream `seed`, encoded; prompt ids index `all_scenes()`.

    Scenes are drawn uniformly, or with each shape's scenes `shape_odds[shape]` times as likely. With a
    `shape_cell_weight`, the loss on the cells that tell the object's shape (`shape_cells`) is multiplied by
    1 + that weight."""
    rng = random.Random(seed)
    scenes = all_scenes()
    if shape_odds is None:
        ids = [rng.randrange(len(scenes)) for _ in range(count)]
    else:
        ids = rng.choices(range(len(scenes)), weights=[shape_odds[scene.shape] for scene in scenes], k=count)
    seeds = [first_drawing_seed(seed) + i for i in range(count)]
    latents = []
    for start in range(0, count, 256):
        pixels = draw_batch([scenes[i] for i in ids[start : start + 256]], width, height, seeds[start : start + 256])
        latents.append(encode_latents(vae, pixels))
    encoded = torch.cat(latents)
    cell_weights = None
    if shape_cell_weight:
        cells = shape_cells([scenes[i] for i in ids], seeds, width, height, encoded.shape[2:])
        cell_weights = 1 + shape_cell_weight * cells
    return LatentSet(encoded, torch.tensor(ids), cell_weights)


def shape_cells(scenes: list[Scene], seeds: list[int], width: int, height: int, grid: tuple[int, int]) -> torch.Tensor:
    """(N, 1, h, w) 1.0 on the cells of an h×w latent grid where the scene's shape differs from another shape drawn
    in its place (on over SHAPE_CELL_AREA of the cell), else 0: a square's corners, the flanks of a triangle.

    Squares and circles differ only there, a few cells of a small object, so an unweighted loss barely asks for it."""
    masks = []
    for scene, seed in zip(scenes, seeds, strict=True):
        own = shape_coverage(scene, scene.shape, width, height, seed)
        others = [shape_coverage(scene, shape, width, height, seed) for shape in SHAPES if shape != scene.shape]
        masks.append(np.max([np.abs(own - other) for other in others], axis=0))
    difference = torch.from_numpy(np.stack(masks))[:, None]  # (N, 1, H, W)
    return (torch.nn.functional.adaptive_avg_pool2d(difference, grid) > SHAPE_CELL_AREA).float()

"""The latent cells that tell a shape: where another shape drawn in the object's place differs, and their loss."""

from __future__ import annotations

import copy
import math

import numpy as np
import torch

from demo_training.architecture import TEXT_DIM, build_transformer
from demo_training.data import LatentSet, shape_cells
from demo_training.shapes_world import Scene, shape_coverage
from demo_training.transformer_training import PromptTable, Schedule, train_transformer


def test_every_shape_is_drawn_in_the_same_place_and_box() -> None:
    """With one seed, a circle fills π/4 of the square's area and lies inside it; the triangle half."""
    scene = Scene("large", "red", "square", "on the left", "white")  # inside the canvas, off the pixel grid
    square, circle, triangle = (shape_coverage(scene, s, 128, 96, seed=4) for s in ("square", "circle", "triangle"))
    assert square.shape == (96, 128)
    assert np.all(circle <= square + 1e-6) and np.all(triangle <= square + 1e-6)
    assert abs(circle.sum() / square.sum() - math.pi / 4) < 0.02
    assert abs(triangle.sum() / square.sum() - 0.5) < 0.02


def test_a_squares_corners_are_shape_cells_and_its_middle_and_the_background_are_not() -> None:
    """A large square in the centre of a 128-px canvas on a 16×16 latent grid (8 px per cell)."""
    scene = Scene("large", "blue", "square", "in the center", "gray")
    cells = shape_cells([scene], [3], 128, 128, (16, 16))[0, 0]
    ys, xs = np.nonzero(shape_coverage(scene, "square", 128, 128, seed=3) > 0.5)
    top, left, bottom, right = (ys.min() + 4) // 8, (xs.min() + 4) // 8, (ys.max() - 4) // 8, (xs.max() - 4) // 8
    corners = [cells[top, left], cells[top, right], cells[bottom, left], cells[bottom, right]]
    assert all(corner == 1 for corner in corners)  # where a circle leaves the background
    assert cells[8, 8] == 0  # the middle, which every shape covers
    assert cells[0, 0] == 0 and cells[15, 15] == 0  # background, far from any shape
    assert set(cells.unique().tolist()) == {0.0, 1.0}


def _train(cell_weights: torch.Tensor | None) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    data = LatentSet(torch.randn(4, 4, 8, 8, generator=generator), torch.tensor([0, 1, 0, 1]), cell_weights)
    prompts = PromptTable(torch.randn(3, 5, TEXT_DIM, generator=generator), torch.ones(3, 5, dtype=torch.long))
    model = build_transformer(64, width=32, layers=2)
    start = copy.deepcopy(model)
    train_transformer(model, [data], [1.0], prompts, Schedule(steps=2, batch=2, warmup=1), None, lambda _: None, "t")
    return [(a - b).abs().max() for a, b in zip(model.parameters(), start.parameters(), strict=True)]


def test_training_multiplies_the_loss_by_the_cell_weights() -> None:
    """Zero weights on every cell leave the model where it started; without cell weights it moves."""
    assert max(_train(None)) > 0
    assert max(_train(torch.zeros(4, 1, 8, 8))) == 0

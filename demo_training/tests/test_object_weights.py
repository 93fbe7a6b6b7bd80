"""Stage 2's loss weights single out the object's latent cells and the ring of cells around them."""

from __future__ import annotations

import torch

from demo_training.transformer_training import OBJECT_LOSS_WEIGHT, object_weights


def test_the_object_and_its_ring_are_weighted_and_the_rest_of_the_background_is_not() -> None:
    clean = torch.full((1, 4, 8, 8), -0.3)  # a flat background
    clean[0, :, 3:5, 2:4] = 1.5  # a 2x2-cell object
    weights = object_weights(clean)[0, 0]
    heavy = 1 + OBJECT_LOSS_WEIGHT
    assert torch.all(weights[2:6, 1:5] == heavy)  # the object and one cell all around it
    assert (weights == heavy).sum() == 16
    assert torch.all(weights[weights != heavy] == 1)

"""The transformer's loss over noise levels: the per-timestep weights and the stratified timestep sampler."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from demo_training.architecture import training_scheduler
from demo_training.transformer_training import NOISE_LEVEL_WEIGHT_CAP, noise_level_weights, stratified_timesteps


def linear_schedule_float64() -> np.ndarray:
    """PixArt's alphas_cumprod from its definition (linear betas 1e-4…0.02 over 1 000 steps), in float64."""
    return np.cumprod(1.0 - np.linspace(1e-4, 0.02, 1000, dtype=np.float64))


def test_weights_are_one_plus_inverse_snr_capped_and_mean_one() -> None:
    """Against an independent float64 computation: min(1 + 1/SNR, cap), divided by its mean over the 1 000 steps."""
    alphas = linear_schedule_float64()
    snr = alphas / (1 - alphas)
    expected = np.minimum(1 + 1 / snr, NOISE_LEVEL_WEIGHT_CAP)
    expected /= expected.mean()
    weights = noise_level_weights(training_scheduler())
    assert weights.shape == (1000,)
    np.testing.assert_allclose(weights.numpy(), expected, rtol=1e-4)
    assert float(weights.mean()) == pytest.approx(1.0, abs=1e-5)


def test_noisy_steps_weigh_up_to_the_cap_times_the_clean_ones() -> None:
    """Weights never fall as the noise grows; the noisiest steps get the cap's multiple of the cleanest."""
    schedule = training_scheduler()
    weights = noise_level_weights(schedule)
    assert bool((weights[1:] >= weights[:-1] - 1e-6).all())
    assert float(weights[-1] / weights[0]) == pytest.approx(NOISE_LEVEL_WEIGHT_CAP, rel=1e-3)
    snr = schedule.alphas_cumprod / (1 - schedule.alphas_cumprod)
    capped = snr < 1 / (NOISE_LEVEL_WEIGHT_CAP - 1)  # where 1 + 1/SNR exceeds the cap
    assert 0 < int(capped.sum()) < 1000
    assert torch.allclose(weights[capped], weights[-1])


@pytest.mark.parametrize("batch", [1, 7, 24, 48])
def test_stratified_timesteps_are_evenly_spaced_and_shuffled(batch: int) -> None:
    """A batch of B timesteps lies 1000/B apart around [0, 1000) (one per stratum, up to rounding to whole
    timesteps), and comes in random order."""
    generator = torch.Generator().manual_seed(3)
    in_order = 0
    for _ in range(20):
        timesteps = stratified_timesteps(batch, 1000, generator)
        assert timesteps.dtype == torch.int64 and timesteps.shape == (batch,)
        assert int(timesteps.min()) >= 0 and int(timesteps.max()) < 1000
        ordered = sorted(int(t) for t in timesteps)
        gaps = [b - a for a, b in itertools.pairwise(ordered)] + [ordered[0] + 1000 - ordered[-1]]
        assert set(gaps) <= {1000 // batch, -(-1000 // batch)}
        in_order += ordered == [int(t) for t in timesteps]
    assert in_order < 20 if batch > 1 else in_order == 20


def test_stratified_timesteps_move_with_the_generator() -> None:
    """Successive batches are offset differently, so over many steps every timestep is trained."""
    generator = torch.Generator().manual_seed(0)
    seen = torch.cat([stratified_timesteps(24, 1000, generator) for _ in range(400)])
    assert len(torch.unique(seen)) > 990
    assert not torch.equal(stratified_timesteps(24, 1000, generator), stratified_timesteps(24, 1000, generator))

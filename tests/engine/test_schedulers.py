"""Sampler names map to diffusers schedulers with PixArt-Σ's settings, built from the model's scheduler config."""

from __future__ import annotations

import pytest
import torch
from diffusers import (
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerDiscreteScheduler,
    SASolverScheduler,
)

from app.core.schedulers import SchedulerName
from app.engine.schedulers import img2img_timesteps, make_scheduler, predicted_clean_latent

CONFIG = dict(DPMSolverMultistepScheduler(beta_schedule="linear").config)


def test_dpm_solver_is_second_order_dpmsolver_plus_plus():
    """The default sampler is DPM-Solver++ of order 2, with or without Karras sigmas."""
    plain, karras = (
        make_scheduler(SchedulerName.DPM_SOLVER, CONFIG),
        make_scheduler(SchedulerName.DPM_SOLVER_KARRAS, CONFIG),
    )
    assert isinstance(plain, DPMSolverMultistepScheduler) and isinstance(karras, DPMSolverMultistepScheduler)
    assert plain.config.algorithm_type == karras.config.algorithm_type == "dpmsolver++"
    assert plain.config.solver_order == karras.config.solver_order == 2
    assert not plain.config.use_karras_sigmas and karras.config.use_karras_sigmas
    plain.set_timesteps(20)
    karras.set_timesteps(20)
    assert not torch.equal(plain.timesteps, karras.timesteps)


def test_sa_solver_uses_pixart_sigmas_settings():
    """SA-Solver predicts data, has predictor and corrector order 2, and is stochastic only for t in [200, 800]."""
    scheduler = make_scheduler(SchedulerName.SA_SOLVER, CONFIG)
    assert isinstance(scheduler, SASolverScheduler)
    assert scheduler.config.algorithm_type == "data_prediction"
    assert (scheduler.config.predictor_order, scheduler.config.corrector_order) == (2, 2)
    assert [scheduler.tau_func(t) for t in (100, 200, 500, 800, 900)] == [0, 1, 1, 1, 0]


def test_euler_and_ddim_keep_the_model_schedule_and_do_not_clip_latents():
    """Euler and DDIM take the model's betas; DDIM does not clip latents to [-1, 1]."""
    euler, ddim = make_scheduler(SchedulerName.EULER, CONFIG), make_scheduler(SchedulerName.DDIM, CONFIG)
    assert isinstance(euler, EulerDiscreteScheduler) and isinstance(ddim, DDIMScheduler)
    assert euler.config.beta_schedule == ddim.config.beta_schedule == "linear"
    assert not ddim.config.clip_sample


@pytest.mark.parametrize("name", list(SchedulerName))
def test_every_scheduler_is_a_fresh_instance(name):
    """Each call builds a new scheduler, so a cancelled job cannot leave state behind for the next."""
    assert make_scheduler(name, CONFIG) is not make_scheduler(name, CONFIG)


@pytest.mark.parametrize(("steps", "strength", "kept"), [(20, 0.5, 10), (20, 0.3, 6), (10, 1.0, 10), (20, 0.01, 1)])
def test_img2img_keeps_the_tail_of_the_schedule_like_diffusers(steps, strength, kept):
    """Refine runs the last int(steps × strength) timesteps (at least one), as diffusers' img2img pipelines do."""
    scheduler = make_scheduler(SchedulerName.DPM_SOLVER, CONFIG)
    timesteps = img2img_timesteps(scheduler, steps, strength)
    reference = make_scheduler(SchedulerName.DPM_SOLVER, CONFIG)
    reference.set_timesteps(steps)
    assert torch.equal(timesteps, reference.timesteps[steps - kept :])
    assert scheduler.begin_index == steps - kept


def test_predicted_clean_latent_inverts_the_forward_noising():
    """x0 recovered from a noised latent and its exact noise equals the original latent."""
    scheduler = make_scheduler(SchedulerName.DDIM, CONFIG)
    generator = torch.Generator().manual_seed(0)
    clean, noise = torch.randn(1, 4, 8, 8, generator=generator), torch.randn(1, 4, 8, 8, generator=generator)
    t = torch.tensor(600)
    noisy = scheduler.add_noise(clean, noise, t[None])
    torch.testing.assert_close(predicted_clean_latent(scheduler, noisy, noise, t), clean, atol=1e-4, rtol=0)


def test_predicted_clean_latent_handles_eulers_scaled_input():
    """For Euler, whose latents carry sigma-scaled noise, x0 from the scaled model input is the clean latent."""
    scheduler = make_scheduler(SchedulerName.EULER, CONFIG)
    scheduler.set_timesteps(10)
    generator = torch.Generator().manual_seed(1)
    clean, noise = torch.randn(1, 4, 8, 8, generator=generator), torch.randn(1, 4, 8, 8, generator=generator)
    t, sigma = scheduler.timesteps[4], scheduler.sigmas[4]
    model_input = scheduler.scale_model_input(clean + sigma * noise, t)
    recovered = predicted_clean_latent(scheduler, model_input, noise, t)
    assert (recovered - clean).abs().max() < 0.02 * clean.abs().max()

"""The transformer's learning-rate schedule: warm-up, constant, then a linear cool-down to zero."""

from __future__ import annotations

import pytest

from demo_training.transformer_training import Schedule, learning_rate_factor


def test_warm_up_then_constant_without_cooldown() -> None:
    """The rate climbs over the warm-up steps, then stays at its full value to the last step."""
    schedule = Schedule(steps=1000, batch=1, warmup=100)
    assert learning_rate_factor(schedule, 1) == pytest.approx(0.01)
    assert learning_rate_factor(schedule, 50) == pytest.approx(0.5)
    assert learning_rate_factor(schedule, 100) == 1.0
    assert learning_rate_factor(schedule, 1000) == 1.0


def test_cooldown_decays_linearly_over_the_last_steps() -> None:
    """With a 200-step cool-down the rate is full until step 801, half at 901 and 1/200 at the last step."""
    schedule = Schedule(steps=1000, batch=1, warmup=100, cooldown=200)
    assert learning_rate_factor(schedule, 800) == 1.0
    assert learning_rate_factor(schedule, 801) == 1.0
    assert learning_rate_factor(schedule, 901) == pytest.approx(0.5)
    assert learning_rate_factor(schedule, 1000) == pytest.approx(1 / 200)
    factors = [learning_rate_factor(schedule, step) for step in range(801, 1001)]
    assert factors == sorted(factors, reverse=True) and min(factors) > 0


def test_a_run_shorter_than_its_cooldown_starts_at_the_full_rate_and_decays_to_the_end() -> None:
    """500 steps with a 1 000-step cool-down: the whole run decays, full rate at step 1, 1/500 at the last."""
    schedule = Schedule(steps=500, batch=1, warmup=0, cooldown=1000)
    assert learning_rate_factor(schedule, 1) == 1.0
    assert learning_rate_factor(schedule, 500) == pytest.approx(1 / 500)

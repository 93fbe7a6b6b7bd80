"""Data-parallel transformer training: two processes sharing each batch train the same model as one process."""

from __future__ import annotations

import copy

import pytest
import torch

from demo_training.architecture import TEXT_DIM, build_transformer
from demo_training.data import LatentSet
from demo_training.data_parallel import Shard
from demo_training.transformer_training import PromptTable, Schedule, train_transformer


def _small_problem() -> tuple[torch.nn.Module, list[LatentSet], PromptTable]:
    """A two-layer transformer at 32 px (4×4 latents) with random latents, prompts and captions."""
    generator = torch.Generator().manual_seed(0)
    model = build_transformer(32, width=32, layers=2, seed=0)
    latent_sets = [
        LatentSet(torch.randn(16, 4, 4, 4, generator=generator), torch.randint(5, (16,), generator=generator)),
        LatentSet(torch.randn(16, 4, 4, 6, generator=generator), torch.randint(5, (16,), generator=generator)),
    ]
    prompts = PromptTable(torch.randn(6, 8, TEXT_DIM, generator=generator), torch.ones(6, 8))
    return model, latent_sets, prompts


def test_two_processes_train_the_same_model_as_one() -> None:
    """Same batches, same noise, gradients averaged over equal halves: the weights agree to float rounding."""
    model, latent_sets, prompts = _small_problem()
    schedule = Schedule(steps=6, batch=8, lr=1e-3, warmup=2, cooldown=2)
    lines: list[str] = []
    runs = {}
    for processes in (1, 2):
        start = copy.deepcopy(model)
        ema, _ = train_transformer(
            start, latent_sets, [0.5, 0.5], prompts, schedule, None, lines.append, "dp", seed=3, processes=processes
        )
        runs[processes] = (start, ema)
    # Adam divides by the gradient's running size, so a weight whose gradient is only rounding noise (the key
    # bias: softmax ignores it) can move by a few 1e-6 differently; sharing weights by mistake moved them by 4e-3.
    for single, split in zip(runs[1], runs[2], strict=True):
        for (name, a), b in zip(single.state_dict().items(), split.state_dict().values(), strict=True):
            torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5, msg=lambda m, name=name: f"{name}: {m}")
    trained = zip(model.state_dict().values(), runs[2][0].state_dict().values(), strict=True)
    moved = max(float((a - b).abs().max()) for a, b in trained)
    assert moved > 1e-3  # the runs trained: the comparison is not of two untouched copies
    logged = [line for line in lines if line.startswith("dp step 6/6")]
    assert len(logged) == 2  # the main process logs, the helper does not
    assert float(logged[0].split("loss ")[1].split()[0]) == pytest.approx(float(logged[1].split("loss ")[1].split()[0]))


def test_a_batch_that_does_not_split_evenly_is_refused_before_any_process_starts() -> None:
    """The message names the batch and the process count."""
    model, latent_sets, prompts = _small_problem()
    with pytest.raises(ValueError, match="batch of 6 cannot be split evenly over 4 processes"):
        train_transformer(model, latent_sets, [0.5, 0.5], prompts, Schedule(steps=1, batch=6), None, print, "dp", 0, 4)


def test_shares_cover_the_batch_once() -> None:
    """Rank r of n takes the r-th of n equal, disjoint slices."""
    rows = torch.arange(12)
    parts = [rows[Shard(rank, 3).share(12)] for rank in range(3)]
    assert torch.equal(torch.cat(parts), rows)
    assert [len(part) for part in parts] == [4, 4, 4]

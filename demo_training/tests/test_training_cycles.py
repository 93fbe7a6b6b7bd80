"""Stage 2's warm restart: a second cycle trains on from the first one's EMA, and one curve spans both."""

from __future__ import annotations

import torch

from demo_training.architecture import TEXT_DIM, build_transformer
from demo_training.data import LatentSet
from demo_training.transformer_training import PromptTable, Schedule, train_in_cycles, train_transformer


def _data() -> tuple[list[LatentSet], PromptTable]:
    generator = torch.Generator().manual_seed(0)
    latents = LatentSet(torch.randn(8, 4, 8, 8, generator=generator), torch.tensor([0, 1] * 4))
    prompts = PromptTable(torch.randn(3, 5, TEXT_DIM, generator=generator), torch.ones(3, 5, dtype=torch.long))
    return [latents], prompts


def test_the_second_cycle_trains_on_from_the_first_cycles_ema() -> None:
    """Cycles of 3 and 2 steps: the result equals two chained runs (the second from the EMA, not frozen), and
    the checks land at steps 0, 3 and 5 with no duplicate check at the restart."""
    sets, prompts = _data()
    first, second = Schedule(steps=3, batch=2, eval_every=3), Schedule(steps=2, batch=2, eval_every=2)
    checked = []

    def evaluate(model: torch.nn.Module) -> dict[str, float]:
        checked.append(sum(float(p.sum()) for p in model.parameters()))
        return {"all": float(len(checked))}

    model, curve = train_in_cycles(
        build_transformer(64, width=32, layers=2),
        sets,
        [1.0],
        prompts,
        [(first, 0), (second, 5)],
        evaluate,
        lambda _: None,
        "stage2",
    )
    assert curve.steps == [0, 3, 5] and [s["all"] for s in curve.scores] == [1.0, 2.0, 3.0]

    after_first, _ = train_transformer(
        build_transformer(64, width=32, layers=2), sets, [1.0], prompts, first, None, lambda _: None, "a"
    )
    after_first.requires_grad_(True)
    reference, _ = train_transformer(after_first, sets, [1.0], prompts, second, None, lambda _: None, "b", seed=5)
    assert checked[1] != checked[2]  # the second cycle moved the weights
    for ours, theirs in zip(model.parameters(), reference.parameters(), strict=True):
        assert torch.equal(ours, theirs)

"""Train a PixArt transformer on precomputed latents: epsilon MSE, caption dropout, EMA, DemoBench checkpoints."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import torch
from diffusers import DDPMScheduler, PixArtTransformer2DModel
from diffusers.training_utils import compute_snr

from demo_training.architecture import training_scheduler
from demo_training.data import LatentSet

CAPTION_DROPOUT = 0.1  # the unconditional branch that classifier-free guidance needs
# The object covers a few latent cells; unweighted, the loss is all background and objects come last.
OBJECT_LOSS_WEIGHT = 10.0
OBJECT_LATENT_DEVIATION = 0.5  # scaled-latent distance from the border's median that marks an object cell
# Epsilon MSE weighs an error in the clean image by the SNR, so the noisy steps where color and layout are decided
# barely count. Each timestep's loss is multiplied by 1 + 1/SNR (v-prediction's weighting of the same error), capped
# at this. From seed 1's stage 1, stage 2's first cycle (2 800 steps) reached color / size / shape 86.1 / 93.5 /
# 68.5 % with it against 75.9 / 87.0 / 61.1 % without (108 validation items, guidance 4.5).
NOISE_LEVEL_WEIGHT_CAP = 5.0


def noise_level_weights(noise_schedule: DDPMScheduler) -> torch.Tensor:
    """Loss weight per training timestep (T,): min(1 + 1/SNR, cap), scaled to mean 1 so the learning rate keeps
    its meaning."""
    snr = compute_snr(noise_schedule, torch.arange(noise_schedule.config.num_train_timesteps))
    weights = torch.clamp(1 + 1 / snr, max=NOISE_LEVEL_WEIGHT_CAP)
    return weights / weights.mean()


def stratified_timesteps(batch: int, count: int, generator: torch.Generator) -> torch.Tensor:
    """`batch` timesteps in [0, count), one from each of `batch` equal strata in random order: the batch covers
    the noise levels evenly (a low-discrepancy sampler, as in Kingma et al.'s VDM), so its loss varies less."""
    offset = torch.rand(1, generator=generator)
    positions = (offset + torch.arange(batch) / batch) % 1.0
    return (positions * count).long()[torch.randperm(batch, generator=generator)]


def object_weights(clean: torch.Tensor) -> torch.Tensor:
    """Per-cell loss weights (B, 1, h, w): 1 on the background, 1 + OBJECT_LOSS_WEIGHT on the object's cells and
    on the ring of cells around them.

    The ring holds the object's edges, which decide its extent and corners (a small object is about three cells
    wide). From seed 1's stage 1, 1 400 stage-2 steps with the ring weighted reached size 90.3 / 92.1 % against
    83.8 / 85.6 % without it (216 validation items, guidance 4.5 / 3; shape 56.0 / 56.5 against 51.4 / 55.1 %).
    """
    border = torch.cat([clean[:, :, 0], clean[:, :, -1], clean[:, :, :, 0], clean[:, :, :, -1]], dim=2)  # (B, 4, n)
    background = border.median(dim=2).values[:, :, None, None]  # (B, 4, 1, 1)
    deviation = (clean - background).abs().amax(dim=1, keepdim=True)  # (B, 1, h, w)
    found = (deviation > OBJECT_LATENT_DEVIATION).float()
    return 1 + OBJECT_LOSS_WEIGHT * torch.nn.functional.max_pool2d(found, 3, stride=1, padding=1)


@dataclass
class PromptTable:
    """Frozen text-encoder outputs for every shapes-world prompt; the last row is the empty prompt."""

    embeddings: torch.Tensor  # (P + 1, L, d)
    masks: torch.Tensor  # (P + 1, L)

    @property
    def empty_id(self) -> int:
        """Row of the empty prompt (the unconditional branch)."""
        return len(self.embeddings) - 1


@dataclass
class Curve:
    """DemoBench accuracy at training steps, with the wall time spent training."""

    steps: list[int] = field(default_factory=list)
    scores: list[dict[str, float]] = field(default_factory=list)
    train_seconds: float = 0.0


@dataclass(frozen=True)
class Schedule:
    """Optimisation settings of one transformer run."""

    steps: int
    batch: int
    lr: float = 5e-4
    warmup: int = 100
    cooldown: int = 0  # the last `cooldown` steps decay the learning rate linearly to zero (warm-up, stable, decay)
    ema_decay: float = 0.995
    eval_every: int = 0  # 0: evaluate only at the end
    eval_at_start: bool = True  # with eval_every: also score the starting weights (step 0)


def train_transformer(
    model: PixArtTransformer2DModel,
    sets: list[LatentSet],
    weights: list[float],
    prompts: PromptTable,
    schedule: Schedule,
    evaluate: Callable[[PixArtTransformer2DModel], dict[str, float]] | None,
    log: Callable[[str], None],
    name: str,
    seed: int = 0,
) -> tuple[PixArtTransformer2DModel, Curve]:
    """Train `model` in place; returns its EMA copy (what is evaluated and shipped) and the DemoBench curve."""
    noise_schedule = training_scheduler()
    timestep_weights = noise_level_weights(noise_schedule)
    generator = torch.Generator().manual_seed(seed)
    ema = copy.deepcopy(model).requires_grad_(False).eval()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=schedule.lr, weight_decay=0.0)
    probabilities = torch.tensor(weights, dtype=torch.float32)
    curve = Curve()
    if evaluate is not None and schedule.eval_every and schedule.eval_at_start:  # stage 1's head start shows here
        curve.steps.append(0)
        curve.scores.append(evaluate(ema))
        log(f"{name} step 0 demobench " + " ".join(f"{k} {v:.3f}" for k, v in curve.scores[-1].items()))
    model.train()
    started = time.perf_counter()
    for step in range(1, schedule.steps + 1):
        chosen = sets[int(torch.multinomial(probabilities, 1, generator=generator))]  # one aspect bin per batch
        index = torch.randint(len(chosen.latents), (schedule.batch,), generator=generator)
        clean = chosen.latents[index]  # (B, 4, h, w)
        if chosen.cell_weights is not None:
            cell_weights = chosen.cell_weights[index]  # (B, 1, h, w)
        else:
            cell_weights = torch.ones(schedule.batch, 1, 1, 1)
        prompt_ids = chosen.prompt_ids[index].clone()
        dropped = torch.rand(schedule.batch, generator=generator) < CAPTION_DROPOUT
        prompt_ids[dropped] = prompts.empty_id
        timesteps = stratified_timesteps(schedule.batch, noise_schedule.config.num_train_timesteps, generator)
        noise = torch.randn(clean.shape, generator=generator)
        noisy = noise_schedule.add_noise(clean, noise, timesteps)
        output = model(
            noisy,
            encoder_hidden_states=prompts.embeddings[prompt_ids],
            encoder_attention_mask=prompts.masks[prompt_ids],
            timestep=timesteps,
        ).sample  # (B, 8, h, w): epsilon, then the sigma channels, which DPM-Solver does not use
        loss_weights = timestep_weights[timesteps].view(-1, 1, 1, 1) * object_weights(clean) * cell_weights
        loss = (loss_weights * (output[:, :4] - noise).pow(2)).mean()
        for group in optimizer.param_groups:
            group["lr"] = schedule.lr * learning_rate_factor(schedule, step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        decay = min(schedule.ema_decay, (1 + step) / (10 + step))  # short warm-up so early EMA is not the init
        with torch.no_grad():
            for ema_param, param in zip(ema.parameters(), model.parameters(), strict=True):
                ema_param.lerp_(param, 1 - decay)
        if step % 100 == 0 or step == schedule.steps:
            log(f"{name} step {step}/{schedule.steps} loss {loss.item():.4f} ({time.perf_counter() - started:.0f}s)")
        last = step == schedule.steps
        if evaluate is not None and (last or (schedule.eval_every and step % schedule.eval_every == 0)):
            curve.train_seconds += time.perf_counter() - started
            scores = evaluate(ema)
            curve.steps.append(step)
            curve.scores.append(scores)
            log(f"{name} step {step} demobench " + " ".join(f"{k} {v:.3f}" for k, v in scores.items()))
            started = time.perf_counter()
    if evaluate is None:
        curve.train_seconds += time.perf_counter() - started
    model.eval()
    return ema, curve


def train_in_cycles(
    model: PixArtTransformer2DModel,
    sets: list[LatentSet],
    weights: list[float],
    prompts: PromptTable,
    cycles: list[tuple[Schedule, int]],
    evaluate: Callable[[PixArtTransformer2DModel], dict[str, float]] | None,
    log: Callable[[str], None],
    name: str,
) -> tuple[PixArtTransformer2DModel, Curve]:
    """`train_transformer` once per (schedule, seed): each cycle starts from the previous one's EMA with a fresh
    optimizer, warm-up and cool-down (a warm restart). Returns the last EMA and one curve over all the steps."""
    curve = Curve()
    done = 0
    for index, (schedule, seed) in enumerate(cycles):
        if index:  # the previous cycle's last check already scored these weights
            schedule = replace(schedule, eval_at_start=False)
            model.requires_grad_(True)  # an EMA copy comes back frozen
        label = name if index == 0 else f"{name} cycle {index + 1}"
        model, part = train_transformer(model, sets, weights, prompts, schedule, evaluate, log, label, seed)
        curve.steps += [done + step for step in part.steps]
        curve.scores += part.scores
        curve.train_seconds += part.train_seconds
        done += schedule.steps
    return model, curve


def learning_rate_factor(schedule: Schedule, step: int) -> float:
    """Linear warm-up over `warmup` steps, constant, then a linear decay to zero over the last `cooldown` steps."""
    warm = min(1.0, step / schedule.warmup) if schedule.warmup else 1.0
    cooldown = min(schedule.cooldown, schedule.steps)  # a run shorter than its cool-down decays from step 1
    remaining = schedule.steps - step + 1  # the last step still moves, by 1/cooldown of the rate
    cool = min(1.0, remaining / cooldown) if cooldown else 1.0
    return warm * cool

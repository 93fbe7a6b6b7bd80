"""Levers toward the compute floor (issue #33, GPU): each against the current path, in the same run, on one model.

A guided step of PixArt-Σ XL (random weights, batch 2, a 300-token caption with 120 real tokens) at 4K, 2K and
1K, with KV compression off and as released, runs with each lever of `benchmarks/levers.py` (attention backends
per attention kind, padded heads, fused projections, torch.compile, CUDA graphs) and, at 4K, the VAE decode with
those of `benchmarks/vae_levers.py`. Per lever and mode: the lever's steps alternate round-robin with the current
path's, and a row gives measured ÷ compute floor (the step's FLOPs at the matmul throughput measured in this run,
as the `limit` family), the ratio to the current path, and how far the lever's output is from the current path's
on the same inputs and weights. At the native size (1K) a second row gives released ÷ off under the lever: the
issue asks that compression be no slower there.

The family must fit a few minutes of a lent GPU, so sizes run largest first, each with a share of the time budget
(what a size leaves unused goes to the next); levers run in priority order while their estimated time fits, and
the others get a skip row saying so. A lever a kernel refuses (flash with a mask, math out of memory) gets a skip
row with torch's reason. Off CUDA only `--smoke` runs it, on tiny stand-ins, to exercise the code.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from typing import Any
from unittest.mock import patch

import torch
from diffusers import PixArtTransformer2DModel

from app.model.kv_compression import apply_kv_compression, released_config, set_kv_compression_enabled
from benchmarks.budget import Budget
from benchmarks.flops import step_flops
from benchmarks.harness import Context, Row, alternate, median, paired_ratios
from benchmarks.kv_bench import GUIDED_BATCH, RATIO, step_inputs
from benchmarks.levers import LeverRefusedError, Switch, compiled_blocks, fused_projections, routed_attention
from benchmarks.limit_bench import matmul_throughput
from benchmarks.models import dit_config, random_transformer, random_vae
from benchmarks.vae_levers import vae_rows

FAMILY = "levers"
MODES = {"off": False, "released": True}  # compression bypassed / on the released blocks (14–27, R = 2)
NATIVE_GOAL = 1.0  # at the native size, released ÷ off: compression no slower than none
VAE_BUDGET_S = 35.0
# Until a compile has been timed in this run, its estimate for the budget (both modes, cold cache).
COMPILE_ESTIMATE_S = {"default": 60.0, "reduce-overhead": 60.0, "max-autotune-no-cudagraphs": 150.0}


@dataclass(frozen=True)
class Size:
    """One image size: its label, pixels per side, budget share, alternated rounds per lever, and floor goal."""

    label: str
    pixels: int
    budget_s: float
    rounds: int
    floor_goal: float | None = None  # issue #33's goal for measured ÷ floor


# Largest first: 4K matters most and costs most. A 4K step takes seconds and its rounds differ by ~0.2%.
SIZES = (Size("4K", 4096, 130.0, 1, 1.5), Size("2K", 2048, 75.0, 3, 1.6), Size("1K", 1024, 90.0, 7))
SMOKE_SIZES = (Size("smoke 128px", 128, 130.0, 1), Size("smoke 64px", 64, 90.0, 1))

Install = Callable[[PixArtTransformer2DModel, Context, dict[str, Any]], AbstractContextManager[Switch]]


@dataclass(frozen=True)
class Lever:
    """A lever: its name, how to install it (with a dict for what it reports), and how it runs."""

    name: str
    install: Install
    compile_mode: str | None = None  # torch.compile's mode: its first steps are reported as compile time
    warmup: int = 1  # untimed lever steps per mode before the rounds; the output compared is the last step's
    cuda_only: bool = False
    max_pixels: int | None = None  # larger sizes skip it (CUDA graphs: only launch-bound steps can gain)


def _attention(self_backend: str | None = None, cross_backend: str | None = None, pad_to: int | None = None) -> Install:
    def install(model: PixArtTransformer2DModel, ctx: Context, notes: dict[str, Any]):
        chosen = notes.setdefault("backends", {})
        return routed_attention(model, self_backend, cross_backend, pad_to, chosen)

    return install


def _compiled(mode: str) -> Install:
    def install(model: PixArtTransformer2DModel, ctx: Context, notes: dict[str, Any]):
        # The smoke run traces with dynamo but generates no code: inductor needs tens of seconds on a small CPU.
        return compiled_blocks(model, mode, backend="eager" if ctx.smoke else "inductor")

    return install


def _fused(model: PixArtTransformer2DModel, ctx: Context, notes: dict[str, Any]):
    return fused_projections(model, notes.setdefault("attentions", {}))


# In priority order. At 4K attention is ~90% of a step's FLOPs with compression off, so its kernels come first;
# compilation fuses the memory-bound rest, which weighs most at 1K, where it is cheap to time.
LEVERS = (
    Lever("self-attention on cuDNN", _attention(self_backend="cuDNN")),
    Lever("self-attention on flash", _attention(self_backend="flash")),
    Lever("self-attention on efficient", _attention(self_backend="efficient")),
    Lever("heads padded to 128 (torch's backends)", _attention(pad_to=128)),
    Lever("heads padded to 96 (torch's backends)", _attention(pad_to=96)),
    Lever("cross-attention on cuDNN", _attention(cross_backend="cuDNN")),
    Lever("cross-attention on efficient", _attention(cross_backend="efficient")),
    Lever("cross-attention on flash", _attention(cross_backend="flash")),
    Lever("fused QKV projections (where our processor allows)", _fused),
    Lever("torch.compile of the blocks (default)", _compiled("default"), compile_mode="default"),
    Lever("heads padded to 80 (torch's backends)", _attention(pad_to=80)),
    Lever(
        "CUDA graphs (torch.compile reduce-overhead)",
        _compiled("reduce-overhead"),
        compile_mode="reduce-overhead",
        warmup=3,  # compile, record, first replay
        cuda_only=True,
        max_pixels=2048,
    ),
    Lever(
        "torch.compile of the blocks (max-autotune-no-cudagraphs)",
        _compiled("max-autotune-no-cudagraphs"),
        compile_mode="max-autotune-no-cudagraphs",  # max-autotune without the CUDA graphs the lever above measures
    ),
    Lever("self-attention on math", _attention(self_backend="math")),
    Lever("cross-attention on math", _attention(cross_backend="math")),
)


def run(ctx: Context) -> list[Row]:
    """Every lever at each size that the budget allows, then the VAE at 4K; GPU only (tiny when smoke-testing)."""
    if not ctx.is_cuda and not ctx.smoke:
        return [Row.skip(FAMILY, "levers toward the compute floor", "GPU only")]
    # Compiled code lands in this run's folder: compile times are cold, and the user's cache stays untouched.
    with patch.dict(os.environ, {"TORCHINDUCTOR_CACHE_DIR": str(ctx.work / "inductor-cache")}):
        return _rows(ctx)


def _rows(ctx: Context) -> list[Row]:
    throughput = matmul_throughput(ctx)
    dtype = str(ctx.half_dtype).removeprefix("torch.")
    rows = [Row(FAMILY, f"matrix throughput ({dtype} matmul), for the floor", throughput / 1e12, "TFLOP/s")]
    config = dit_config(ctx.smoke)
    model = random_transformer(config, ctx.device, ctx.half_dtype)
    apply_kv_compression(model, released_config(config["num_layers"]))
    compile_seen: dict[str, float] = {}  # compile mode → seconds its last compile took in this run
    budget = Budget()
    sizes = SMOKE_SIZES if ctx.smoke else SIZES

    def checkpoint(more: list[Row]) -> None:
        ctx.checkpoint(rows + more)

    for index, size in enumerate(sizes):
        budget.open(size.label, size.budget_s)
        measurement = SizeMeasurement(ctx, model, config, size, throughput, native=index == len(sizes) - 1)
        rows += measurement.rows(budget, compile_seen, checkpoint)
        del measurement
        if index == 0:
            budget.open("the VAE decode", VAE_BUDGET_S)
            vae = random_vae(ctx.device, ctx.half_dtype, ctx.smoke)
            rows += vae_rows(ctx, vae, budget)
            rows.append(_spent_row(budget))
            del vae
        _free(ctx)
        ctx.checkpoint(rows)
    return rows


def _spent_row(budget: Budget) -> Row:
    """Seconds the open budget section took, beside its share."""
    spent = budget.spent()
    compare = f"budget {budget.share:.0f} s + {budget.carried:.0f} s carried from the sections before"
    return Row(FAMILY, f"time spent on {budget.section}", spent, "s", compare=compare)


def _free(ctx: Context) -> None:
    if ctx.is_cuda:
        torch.cuda.empty_cache()


def _forward(model: PixArtTransformer2DModel, inputs: dict[str, Any], compressed: bool) -> torch.Tensor:
    """One guided step's transformer output with compression on (as released) or bypassed."""
    set_kv_compression_enabled(model, compressed)
    with torch.no_grad():
        return model(**inputs)[0]


def _difference(output: torch.Tensor, reference: torch.Tensor) -> dict[str, float]:
    """Max and mean absolute difference, in float32, beside the reference's mean magnitude for scale."""
    delta = (output.float() - reference.float()).abs()
    return {
        "max_abs_difference": delta.max().item(),
        "mean_abs_difference": delta.mean().item(),
        "reference_mean_abs": reference.float().abs().mean().item(),
    }


class SizeMeasurement:
    """The current path and every lever at one size: fixed inputs, reference outputs and all timings."""

    def __init__(
        self,
        ctx: Context,
        model: PixArtTransformer2DModel,
        config: dict[str, Any],
        size: Size,
        throughput: float,
        native: bool,
    ) -> None:
        self.ctx, self.model, self.size, self.native = ctx, model, size, native
        self.dtype = str(ctx.half_dtype).removeprefix("torch.")
        self.inputs = step_inputs(config, size.pixels, ctx.half_dtype, ctx.device)
        latent = size.pixels // 8
        layers = {"off": (), "released": released_config(config["num_layers"]).layers}
        self.floor_s = {
            mode: step_flops(config, latent, latent, GUIDED_BATCH, layers[mode], RATIO) / throughput for mode in MODES
        }
        self.reference: dict[str, torch.Tensor] = {}
        self.repeat_difference: dict[str, dict[str, float]] = {}
        self.backends: dict[str, dict[str, str]] = {}
        self.current_times: dict[str, list[float]] = {mode: [] for mode in MODES}
        self.current_pairs: list[tuple[float, float]] = []  # (off, released) in the same round, for released ÷ off

    def current(self, mode: str) -> Callable[[], torch.Tensor]:
        return partial(_forward, self.model, self.inputs, MODES[mode])

    def rows(
        self, budget: Budget, compile_seen: dict[str, float], checkpoint: Callable[[list[Row]], None]
    ) -> list[Row]:
        """Reference outputs, then each lever while the budget lasts (`checkpoint` gets the rows after each one),
        then the current path's rows."""
        label, started = self.size.label, time.perf_counter()
        self.ctx.log(f"levers: {label}, current path (compression off and released)")
        for mode in MODES:
            first = self.current(mode)()  # warm-up, and a second output to show the current path repeats itself
            chosen = self.backends.setdefault(mode, {})
            with routed_attention(self.model, chosen=chosen) as observe:
                seconds, self.reference[mode] = _timed(self.ctx, lambda mode=mode: observe(self.current(mode)))
            self.current_times[mode].append(seconds)
            self.repeat_difference[mode] = _difference(first, self.reference[mode])
            del first
        step_s = sum(times[0] for times in self.current_times.values())
        lever_rows: list[Row] = []
        for lever in LEVERS:
            if lever.cuda_only and not self.ctx.is_cuda:
                lever_rows.append(Row.skip(FAMILY, f"step at {label}: {lever.name}", "needs a CUDA GPU"))
                continue
            if lever.max_pixels is not None and self.size.pixels > lever.max_pixels:
                continue  # not a measurement left out: the lever cannot pay at this size (see Lever.max_pixels)
            compile_s = 0.0
            if lever.compile_mode is not None and self.ctx.is_cuda:
                compile_s = compile_seen.get(lever.compile_mode, COMPILE_ESTIMATE_S[lever.compile_mode])
            estimate = (lever.warmup + 2 * self.size.rounds) * step_s + compile_s
            if not budget.fits(estimate):
                lever_rows.append(Row.skip(FAMILY, f"step at {label}: {lever.name}", budget.refusal(estimate)))
                continue
            lever_started = time.perf_counter()
            lever_rows += self._contained(lever, compile_seen)
            self.ctx.log(f"levers: {label}, {lever.name}: {time.perf_counter() - lever_started:.1f} s")
            checkpoint(lever_rows)
        rows = self._current_rows() + lever_rows
        rows.append(_spent_row(budget))
        self.ctx.log(f"levers: {label} done in {time.perf_counter() - started:.0f} s")
        return rows

    def _contained(self, lever: Lever, compile_seen: dict[str, float]) -> list[Row]:
        """The lever's rows; a crash becomes a skip row, so one broken lever does not lose the run's others."""
        try:
            return self._lever_rows(lever, compile_seen)
        except LeverRefusedError as refusal:  # refused after its first steps (memory running out in a later round)
            _free(self.ctx)
            return [Row.skip(FAMILY, f"step at {self.size.label}: {lever.name}", str(refusal))]
        except Exception as error:
            traceback.print_exc()
            _free(self.ctx)
            return [Row.skip(FAMILY, f"step at {self.size.label}: {lever.name}", f"lever crashed: {error!r}")]

    def _lever_rows(self, lever: Lever, compile_seen: dict[str, float]) -> list[Row]:
        label, ctx = self.size.label, self.ctx
        started = time.perf_counter()
        notes: dict[str, Any] = {}
        outputs: dict[str, torch.Tensor] = {}
        first_s: dict[str, float] = {}
        refused: dict[str, str] = {}
        with lever.install(self.model, ctx, notes) as switch:

            def lever_step(mode: str) -> torch.Tensor:
                outputs[mode] = switch(self.current(mode))
                return outputs[mode]

            for mode in MODES:
                try:
                    first_s[mode] = ctx.time_once(partial(lever_step, mode))
                    for _ in range(lever.warmup - 1):
                        lever_step(mode)
                except LeverRefusedError as refusal:
                    refused[mode] = str(refusal)
                    outputs.pop(mode, None)
                    _free(ctx)
            actions: dict[str, Callable[[], object]] = {}
            for mode in outputs:
                actions[f"current {mode}"] = self.current(mode)
                actions[f"lever {mode}"] = partial(lever_step, mode)
            times = alternate(ctx, actions, repeats=self.size.rounds, warmup=0) if actions else {}
        rows = [
            Row.skip(FAMILY, f"step at {label}, compression {mode}: {lever.name}", refused[mode]) for mode in refused
        ]
        for mode in outputs:
            self.current_times[mode] += times[f"current {mode}"]
            rows.append(self._lever_row(lever, mode, times, _difference(outputs[mode], self.reference[mode]), notes))
        if len(outputs) == len(MODES):
            self.current_pairs += list(zip(times["current off"], times["current released"], strict=True))
            if self.native:
                rows.append(self._native_row(f"{lever.name}", times["lever released"], times["lever off"]))
        if lever.compile_mode is not None and first_s and not refused:
            compile_seen[lever.compile_mode] = sum(first_s.values())
            rows.append(self._compile_row(lever, first_s))
        duration = time.perf_counter() - started
        for row in rows:
            row.data["duration_s"] = duration  # the lever's whole time at this size, both modes
        return rows

    def _lever_row(
        self, lever: Lever, mode: str, times: dict[str, list[float]], difference: dict[str, float], notes: dict
    ) -> Row:
        mine, current = times[f"lever {mode}"], times[f"current {mode}"]
        ratios = paired_ratios(mine, current)
        seconds, floor = median(mine), self.floor_s[mode]
        compare = f"{median(ratios):.3f}× the current path ({seconds * 1000:,.1f} vs {median(current) * 1000:,.1f} ms)"
        compare += (
            f"; output Δ max {difference['max_abs_difference']:.2g}, mean {difference['mean_abs_difference']:.2g}"
        )
        compare += f" ({self.dtype})" + _note_words(notes)
        goal = self.size.floor_goal
        return Row(
            FAMILY,
            f"step at {self.size.label}, compression {mode}: {lever.name}",
            seconds / floor,
            "×",
            compare=compare,
            goal=f"≤ {goal}× floor" if goal else "",
            met=seconds / floor <= goal if goal else None,
            data={"times_s": mine, "current_times_s": current, "ratios": ratios, "floor_s": floor}
            | difference
            | {"dtype": self.dtype, "rounds": self.size.rounds, **notes},
        )

    def _native_row(self, what: str, released: list[float], off: list[float]) -> Row:
        ratios = paired_ratios(released, off)
        ratio = median(ratios)
        return Row(
            FAMILY,
            f"step at {self.size.label}, {what}: released ÷ off",
            ratio,
            "×",
            compare=f"{median(released) * 1000:,.1f} vs {median(off) * 1000:,.1f} ms",
            goal=f"≤ {NATIVE_GOAL:.2f}",
            met=ratio <= NATIVE_GOAL,
            data={"ratios": ratios},
        )

    def _compile_row(self, lever: Lever, first_s: dict[str, float]) -> Row:
        total = sum(first_s.values())
        steps = ", ".join(f"{mode} {seconds:.1f} s" for mode, seconds in first_s.items())
        return Row(
            FAMILY,
            f"step at {self.size.label}: {lever.name}, compile time",
            total,
            "s",
            compare=f"first step per mode, compile included ({steps}); cold cache in the run's folder",
            data={"first_step_s": first_s},
        )

    def _current_rows(self) -> list[Row]:
        rows = []
        for mode in MODES:
            times, floor = self.current_times[mode], self.floor_s[mode]
            seconds = median(times)
            backends = _backend_words(self.backends[mode])
            repeat = self.repeat_difference[mode]["max_abs_difference"]
            goal = self.size.floor_goal
            rows.append(
                Row(
                    FAMILY,
                    f"step at {self.size.label}, compression {mode}: current path",
                    seconds / floor,
                    "×",
                    compare=f"{seconds * 1000:,.1f} ms vs floor {floor * 1000:,.1f} ms; {backends}; "
                    f"repeat Δ max {repeat:.2g} ({self.dtype})",
                    goal=f"≤ {goal}× floor" if goal else "",
                    met=seconds / floor <= goal if goal else None,
                    data={"times_s": times, "floor_s": floor, "backends": self.backends[mode]}
                    | {"repeat_difference": self.repeat_difference[mode], "dtype": self.dtype},
                )
            )
        if self.native and self.current_pairs:
            off, released = (list(values) for values in zip(*self.current_pairs, strict=True))
            rows.append(self._native_row("current path", released, off))
        return rows


def _backend_words(chosen: dict[str, str]) -> str:
    """ "self-attention, 4,096 keys on flash; cross-attention, 300 keys on efficient" from a routing's record."""
    return "; ".join(f"{where.replace(',', '-attention,', 1)} on {backend}" for where, backend in chosen.items())


def _note_words(notes: dict[str, Any]) -> str:
    """What a lever recorded, for its row: the backends it ran on, or what it fused."""
    words = ""
    if notes.get("backends"):
        words += f"; {_backend_words(notes['backends'])}"
    if notes.get("attentions"):
        counts = notes["attentions"]
        words += f"; {counts['fused']} attentions fused, {counts['unfused_compressed']} compressed ones not"
    return words


def _timed(ctx: Context, action: Callable[[], torch.Tensor]) -> tuple[float, torch.Tensor]:
    """Seconds of one call on the run's clock, and what it returned."""
    kept: list[torch.Tensor] = []
    seconds = ctx.time_once(lambda: kept.append(action()))
    return seconds, kept[0]

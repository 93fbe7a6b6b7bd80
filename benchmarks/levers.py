"""Levers on a PixArt transformer step, switched on for one call at a time without changing the app's code.

Each lever is a context manager over the model that yields a *switch*: `switch(forward)` runs `forward()` (one
transformer call) with the lever on and leaves the model as it was afterwards, so the lever's steps and the
current path's can alternate on one model with one set of weights. The levers:

- attention routing: every `scaled_dot_product_attention` call of the step, in diffusers' processor and in ours,
  goes through a wrapper that forces a backend per attention kind and may zero-pad the head size (72 → 80/96/128)
  with the softmax scale kept at 1/√72, which leaves the result unchanged up to rounding;
- fused projections: q, k and v (self-attention) or k and v (cross-attention) as one matrix product;
- compiled blocks: `torch.compile` of the 28 transformer blocks.

PixArt calls self-attention without a mask and cross-attention with the caption's padding mask; the routing
tells the two apart by that mask, which is also what decides which kernels accept a call.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any
from unittest.mock import patch

import torch
from diffusers import PixArtTransformer2DModel
from diffusers.models.attention_processor import Attention, FusedAttnProcessor2_0
from torch import nn
from torch.nn import functional
from torch.nn.attention import SDPBackend, sdpa_kernel

from app.model.kv_compression import KVCompressionProcessor

Switch = Callable[[Callable[[], torch.Tensor]], torch.Tensor]

BACKENDS = {
    "flash": SDPBackend.FLASH_ATTENTION,
    "efficient": SDPBackend.EFFICIENT_ATTENTION,
    "cuDNN": SDPBackend.CUDNN_ATTENTION,
    "math": SDPBackend.MATH,
}
_BACKEND_NAMES = {backend.value: name for name, backend in BACKENDS.items()}
# Where the step's attention calls SDPA: diffusers' processors through the module, ours through its imported name.
_SDPA_SITES = (
    "torch.nn.functional.scaled_dot_product_attention",
    "app.model.kv_compression.scaled_dot_product_attention",
)


class LeverRefusedError(Exception):
    """The lever cannot run this case (a kernel refuses it, memory runs out, the compiler fails); says why."""


def _first_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"


def chosen_backend(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None) -> str:
    """The backend torch's dispatcher picks for this call, by name ("unknown" where torch cannot say).

    `torch._fused_sdp_choice` is private; it is only read to label rows, so its absence costs the label only.
    """
    choose = getattr(torch, "_fused_sdp_choice", None)
    if choose is None:
        return "unknown"
    return _BACKEND_NAMES.get(choose(query, key, value, mask, 0.0, False), "unknown")


@contextmanager
def routed_attention(
    model: PixArtTransformer2DModel,
    self_backend: str | None = None,
    cross_backend: str | None = None,
    pad_to: int | None = None,
    chosen: dict[str, str] | None = None,
) -> Iterator[Switch]:
    """Force `self_backend` / `cross_backend` (names of BACKENDS; None: torch's choice), pad heads to `pad_to`.

    `chosen`, when given, is filled with the backend each (kind, key count) runs on, read at its first call.
    A refused call raises LeverRefusedError with torch's reasons. Every switched call checks that each block's two
    attention calls went through the wrapper, so a lever never silently misses part of the step.
    """
    original = functional.scaled_dot_product_attention
    calls: Counter[str] = Counter()

    def attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, **kwargs):
        kind = "self" if attn_mask is None else "cross"
        calls[kind] += 1
        backend = self_backend if kind == "self" else cross_backend
        head = query.shape[-1]
        if pad_to is not None and head < pad_to:
            scale = head**-0.5 if scale is None else scale  # the unpadded head's scale: zeros add nothing to q·k
            query, key, value = (functional.pad(t, (0, pad_to - head)) for t in (query, key, value))
        if chosen is not None and f"{kind}, {key.shape[-2]:,} keys" not in chosen:
            picked = backend or chosen_backend(query, key, value, attn_mask)
            chosen[f"{kind}, {key.shape[-2]:,} keys"] = picked
        with (
            warnings.catch_warnings(record=True) as caught,
            sdpa_kernel(BACKENDS[backend]) if backend else nullcontext(),
        ):
            warnings.simplefilter("always")  # torch explains a refusal in warnings before it raises
            try:
                out = original(
                    query,
                    key,
                    value,
                    attn_mask=attn_mask,
                    dropout_p=dropout_p,
                    is_causal=is_causal,
                    scale=scale,
                    **kwargs,
                )
            except RuntimeError as error:  # a refusal, or out of memory (math materialises N×N scores)
                reasons = "; ".join(dict.fromkeys(str(w.message).split(" (Triggered")[0] for w in caught))
                where = (
                    f"{kind}-attention, head {query.shape[-1]}, {query.shape[-2]:,} queries × {key.shape[-2]:,} keys"
                )
                raise LeverRefusedError(
                    f"{backend or 'default'} refused {where}: {_first_line(error)} {reasons}".strip()
                ) from error
        return out[..., :head]

    blocks = len(model.transformer_blocks)

    def switch(forward: Callable[[], torch.Tensor]) -> torch.Tensor:
        calls.clear()
        with patch(_SDPA_SITES[0], attention), patch(_SDPA_SITES[1], attention):
            output = forward()
        if calls != Counter(self=blocks, cross=blocks):
            raise AssertionError(f"the attention lever reached {dict(calls)} calls, expected {blocks} of each kind")
        return output

    yield switch


def _attentions(model: nn.Module) -> list[Attention]:
    return [module for module in model.modules() if isinstance(module, Attention)]


@contextmanager
def fused_projections(model: PixArtTransformer2DModel, counts: dict[str, Any] | None = None) -> Iterator[Switch]:
    """q, k, v as one product in self-attention and k, v as one in cross-attention, where our processor allows.

    diffusers' `fuse_qkv_projections()` sets its fused processor on every attention, which would drop our
    compression processors; here an enabled compression processor keeps separate projections (it reads
    `to_q`, `to_k`, `to_v`), so with compression as released its blocks' self-attention stays unfused.
    `counts`, when given, gets the number of fused and unfused attentions of the last call.
    """
    attentions = _attentions(model)
    for attn in attentions:
        attn.fuse_projections()  # builds to_qkv / to_kv from the same weights; to_q, to_k, to_v stay
    fused = FusedAttnProcessor2_0()

    def switch(forward: Callable[[], torch.Tensor]) -> torch.Tensor:
        saved = {attn: attn.processor for attn in attentions}
        kept = [a for a, p in saved.items() if isinstance(p, KVCompressionProcessor) and p.enabled]
        for attn in attentions:
            if attn not in kept:
                attn.set_processor(fused)
        if counts is not None:
            counts.update(fused=len(attentions) - len(kept), unfused_compressed=len(kept))
        try:
            return forward()
        finally:
            for attn, processor in saved.items():
                attn.set_processor(processor)

    try:
        yield switch
    finally:
        for attn in attentions:
            for name in ("to_qkv", "to_kv"):
                if hasattr(attn, name):
                    delattr(attn, name)
            attn.fused_projections = False


@contextmanager
def compiled_blocks(model: PixArtTransformer2DModel, mode: str, backend: str = "inductor") -> Iterator[Switch]:
    """The transformer blocks through `torch.compile(mode=mode, dynamic=False)`; the rest of the model stays eager.

    Compiling each block rather than the whole model lets the 28 blocks share compiled code (they differ only in
    weights and in which attention processor they hold), so compile time is a few blocks' worth, not 28; the
    parts outside the blocks are under 1% of a step's FLOPs. `backend="eager"` traces without generating code
    (the smoke run: it checks our processors trace, in seconds). A compile failure raises LeverRefusedError.
    """
    torch.compiler.reset()  # nothing compiled by an earlier lever is reused
    eager = model.transformer_blocks
    options: dict[str, Any] = {"mode": mode} if backend == "inductor" else {}
    compiled = nn.ModuleList(torch.compile(block, backend=backend, dynamic=False, **options) for block in eager)

    def switch(forward: Callable[[], torch.Tensor]) -> torch.Tensor:
        if "reduce-overhead" in mode:
            torch.compiler.cudagraph_mark_step_begin()  # a new step: CUDA-graph outputs of the last one may go
        model.transformer_blocks = compiled
        try:
            return forward()
        except LeverRefusedError:
            raise
        except Exception as error:  # the compiler's failures surface at the first call, in many types
            raise LeverRefusedError(f"torch.compile ({mode}) failed: {_first_line(error)}") from error
        finally:
            model.transformer_blocks = eager

    try:
        yield switch
    finally:
        model.transformer_blocks = eager
        torch.compiler.reset()

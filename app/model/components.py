"""Loaders of a pipeline's other components (T5 tokenizer and encoder, VAE, scheduler), local files only."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, cast

import diffusers
import torch

from app.core.errors import ModelLoadError
from app.model.layout import read_json

_SCHEDULER_CONFIG = "scheduler_config.json"


def load_tokenizer(folder: Path) -> Any:
    """The T5 tokenizer saved in `folder`."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)
    except Exception as err:  # transformers raises OSError, ValueError, KeyError... for a broken folder
        raise ModelLoadError(f"{folder}: the tokenizer cannot be loaded ({_first_line(err)})") from None


def load_text_encoder(folder: Path, device: torch.device | str, dtype: torch.dtype, eight_bit: bool) -> Any:
    """The T5 encoder on `device`; 8-bit needs bitsandbytes and CUDA; fp16 on the CPU runs as fp32 (too slow)."""
    from transformers import T5EncoderModel

    device = torch.device(device)
    kwargs: dict[str, Any] = {"local_files_only": True, "trust_remote_code": False}
    if eight_bit:
        if device.type != "cuda":
            raise ModelLoadError(f"{folder}: an 8-bit text encoder needs a CUDA device, got {device}")
        try:
            from transformers import BitsAndBytesConfig

            kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True)
        except Exception as err:
            raise ModelLoadError(f"{folder}: 8-bit loading needs `pip install bitsandbytes` ({err})") from None
        kwargs["device_map"] = {"": device.index or 0}
        # LLM.int8 multiplies in fp16, and bitsandbytes logs a warning for every 8-bit layer that casts bf16 or
        # fp32 inputs: 144 lines per prompt for T5-XXL (seen on an H200, docs/benchmarks.md). It is expected.
        logging.getLogger("bitsandbytes.autograd._functions").setLevel(logging.ERROR)
    if device.type == "cpu" and dtype == torch.float16:
        dtype = torch.float32
    try:
        encoder = T5EncoderModel.from_pretrained(str(folder), dtype=dtype, **kwargs)
    except Exception as err:
        raise ModelLoadError(f"{folder}: the text encoder cannot be loaded ({_first_line(err)})") from None
    if not eight_bit:
        encoder = encoder.to(device)
    return encoder.eval()


def load_vae(folder: Path, device: torch.device | str, dtype: torch.dtype) -> Any:
    """The AutoencoderKL on `device`."""
    try:
        vae = diffusers.AutoencoderKL.from_pretrained(str(folder), local_files_only=True, torch_dtype=dtype)
    except Exception as err:
        raise ModelLoadError(f"{folder}: the VAE cannot be loaded ({_first_line(err)})") from None
    return vae.to(device).eval()


def load_scheduler(folder: Path) -> Any:
    """The scheduler class its config names, taken only from diffusers' own schedulers."""
    config = read_json(folder / _SCHEDULER_CONFIG)
    name = config.get("_class_name", "DPMSolverMultistepScheduler")
    scheduler_class = getattr(diffusers, str(name), None)
    if not (isinstance(scheduler_class, type) and issubclass(scheduler_class, diffusers.SchedulerMixin)):
        raise ModelLoadError(f"{folder / _SCHEDULER_CONFIG}: {name!r} is not a diffusers scheduler")
    try:
        return cast(Any, scheduler_class).from_config(config)  # diffusers is read as untyped
    except Exception as err:
        raise ModelLoadError(f"{folder / _SCHEDULER_CONFIG}: invalid scheduler config ({_first_line(err)})") from None


def _first_line(err: BaseException) -> str:
    """The first line of an exception's message, capped, for a one-line error."""
    text = str(err).strip()
    return (text.splitlines()[0] if text else type(err).__name__)[:300]

"""Reading and writing weights files safely: safetensors, or pickles through torch.load(weights_only=True) only."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from app.core.atomic_files import replacing
from app.core.errors import ModelLoadError


def read_weights(path: Path) -> dict[str, torch.Tensor]:
    """All tensors of a weights file on the CPU (unwrapping a `state_dict` key); ModelLoadError when unreadable."""
    if not path.is_file():
        raise ModelLoadError(f"{path}: file not found")
    if path.suffix == ".safetensors":
        try:
            return load_file(str(path), device="cpu")
        except (SafetensorError, OSError, ValueError) as err:
            raise ModelLoadError(f"{path}: the weights file is truncated or corrupt ({err})") from None
    try:
        data = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as err:  # torch.load raises many types for bad archives; all mean "unreadable"
        lines = [line.strip() for line in str(err).splitlines() if line.strip()] or [type(err).__name__]
        refused = [line for line in lines if "Unsupported global" in line or "WeightsUnpickler" in line]
        if refused or "weights only" in lines[0].lower():
            detail = (refused[0] if refused else lines[0]).split(". ")[0]
            raise ModelLoadError(
                f"{path}: cannot load it safely, it holds pickled objects other than tensors ({detail[:200]})"
            ) from None
        raise ModelLoadError(f"{path}: cannot load it safely, corrupt or not a checkpoint ({lines[0][:200]})") from None
    return _tensors_of(path, data)


def _tensors_of(path: Path, data: object) -> dict[str, torch.Tensor]:
    """The tensor dict of a loaded pickle, unwrapping a `state_dict` entry."""
    if isinstance(data, dict) and isinstance(data.get("state_dict"), dict):
        data = data["state_dict"]
    if not isinstance(data, dict) or not data:
        raise ModelLoadError(f"{path}: holds no dict of tensors (found {type(data).__name__})")
    bad = [str(k) for k, v in data.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise ModelLoadError(f"{path}: entries that are not tensors: {', '.join(sorted(bad)[:5])}")
    return data


def read_sharded(paths: list[Path]) -> dict[str, torch.Tensor]:
    """Merge the tensors of one or more weights files (diffusers shards)."""
    merged: dict[str, torch.Tensor] = {}
    for path in paths:
        merged.update(read_weights(path))
    return merged


def write_safetensors(state_dict: dict[str, torch.Tensor], path: Path) -> None:
    """Write tensors to a .safetensors file atomically (a partial file never takes the final name)."""
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state_dict.items()}
    with replacing(path) as partial:
        save_file(tensors, str(partial), metadata={"format": "pt"})

"""Model folder layout: where the config, weights and settings files are; reads JSON only (no torch)."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import Any

from app.core.errors import ModelLoadError

CONFIG_FILE = "config.json"
MODEL_INDEX_FILE = "model_index.json"
STUDIO_FILE = "studio.json"  # optional: is_demo, native_resolution, guidance_scale, above_native (a HighResMethod)
EXTRAS_FILE = "original_extras.safetensors"  # original-only tensors kept for a lossless reverse conversion
WEIGHTS_NAME = "diffusion_pytorch_model"
PIPELINE_COMPONENTS: tuple[str, ...] = ("tokenizer", "text_encoder", "vae", "transformer", "scheduler")
CHECKPOINT_SUFFIXES: tuple[str, ...] = (".pth", ".pt", ".safetensors", ".bin")
_RESOLUTION_WORDS = {"256": 256, "512": 512, "1024": 1024, "2048": 2048, "2k": 2048}


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a file, or ModelLoadError naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelLoadError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelLoadError(f"{path}: not readable JSON ({err})") from None
    if not isinstance(data, dict):
        raise ModelLoadError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def is_pipeline_folder(folder: Path) -> bool:
    """True for a diffusers pipeline folder (model_index.json at its root)."""
    return (folder / MODEL_INDEX_FILE).is_file()


def is_transformer_folder(folder: Path) -> bool:
    """True for a diffusers transformer folder (config.json beside weights)."""
    return (folder / CONFIG_FILE).is_file() and bool(weights_files(folder, required=False))


def transformer_folder(path: Path) -> Path:
    """The transformer folder of a pipeline folder, or the folder itself."""
    nested = path / "transformer"
    return nested if is_pipeline_folder(path) or (nested / CONFIG_FILE).is_file() else path


def weights_files(folder: Path, required: bool = True) -> list[Path]:
    """The weights files of a diffusers model folder: one file, or the shards its index names."""
    for name in (f"{WEIGHTS_NAME}.safetensors", f"{WEIGHTS_NAME}.fp16.safetensors", f"{WEIGHTS_NAME}.bin"):
        if (folder / name).is_file():
            return [folder / name]
    for index_name in (f"{WEIGHTS_NAME}.safetensors.index.json", f"{WEIGHTS_NAME}.bin.index.json"):
        index = folder / index_name
        if index.is_file():
            weight_map = read_json(index).get("weight_map")
            if not isinstance(weight_map, dict) or not weight_map:
                raise ModelLoadError(f"{index}: has no weight_map")
            shards = [folder / name for name in sorted(set(weight_map.values()))]
            absent = [s.name for s in shards if not s.is_file()]
            if absent:
                raise ModelLoadError(f"{index}: shard files missing: {', '.join(absent)}")
            return shards
    if required:
        raise ModelLoadError(f"{folder}: no {WEIGHTS_NAME}.safetensors (or .bin) weights file in the folder")
    return []


def safetensors_shapes(path: Path) -> dict[str, list[int]]:
    """Tensor names and shapes in a .safetensors file, read from its JSON header only."""
    try:
        with path.open("rb") as file:
            (length,) = struct.unpack("<Q", file.read(8))
            if length > 100_000_000:
                raise ValueError(f"header length {length} is implausible")
            header = json.loads(file.read(length))
    except (OSError, struct.error, ValueError) as err:
        raise ModelLoadError(f"{path}: not a readable safetensors file ({err})") from None
    return {k: v.get("shape", []) for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)}


def infer_resolution(path: str | Path) -> int | None:
    """The training resolution named in a file name (256/512/1024/2048/2K), or None when it names none or several."""
    words = re.findall(r"[0-9]+k?|[a-z]+", Path(path).name.lower())
    found = {_RESOLUTION_WORDS[w] for w in words if w in _RESOLUTION_WORDS}
    return found.pop() if len(found) == 1 else None


def folder_size(path: Path) -> int:
    """Bytes of all files under a folder (following the HF cache's symlinks), or of a file."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())

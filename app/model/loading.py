"""Safe local loading: the transformer (folder or original checkpoint) and the full set of pipeline components."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from accelerate import init_empty_weights
from diffusers import PixArtTransformer2DModel

from app.core.errors import ModelLoadError
from app.core.kv_config import KV_CONFIG_FILE
from app.core.model_info import ModelInfo, ModelSource
from app.core.resources import DEMO_MODEL_NAME
from app.core.sizes import HighResMethod
from app.model.catalog import list_models, model_hash, model_info, read_kv_config, resolve_model_path
from app.model.components import load_scheduler, load_text_encoder, load_tokenizer, load_vae
from app.model.conversion import load_original_checkpoint
from app.model.device_memory import free_cached_memory
from app.model.kv_compression import (
    KVCompressionConfig,
    KVCompressionProcessor,
    apply_kv_compression,
    has_trained_kv_weights,
    kv_compression_of,
)
from app.model.layout import (
    CONFIG_FILE,
    MODEL_INDEX_FILE,
    PIPELINE_COMPONENTS,
    WEIGHTS_NAME,
    read_json,
    transformer_folder,
    weights_files,
)
from app.model.weights_io import read_sharded, write_safetensors

__all__ = [
    "PixArtComponents",
    "list_models",
    "load_pipeline_components",
    "load_transformer",
    "model_hash",
    "resolve_model_path",
    "save_transformer",
]

_TRANSFORMER_CLASSES = ("PixArtTransformer2DModel", "Transformer2DModel")  # the latter: early PixArt-α exports
_INIT_PARAMETERS = set(inspect.signature(PixArtTransformer2DModel.__init__).parameters) - {"self"}


def load_transformer(
    path: str | Path,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    resolution: int | None = None,
) -> PixArtTransformer2DModel:
    """A ready transformer (eval mode, float32 unless `dtype`) with the compression saved beside it applied.

    `path` is a diffusers transformer folder, a pipeline folder (its transformer/ is used) or an original
    .pth/.safetensors checkpoint, converted in memory (its training `resolution` comes from the file name or
    the argument).
    """
    path = Path(path)
    if path.is_file():
        converted = load_original_checkpoint(path, resolution)
        return build_transformer(
            path, converted.config, converted.state_dict, converted.kv_config, device, dtype or torch.float32
        )
    if not path.is_dir():
        raise ModelLoadError(f"{path}: no such model folder or checkpoint file")
    folder = transformer_folder(path)
    if not (folder / CONFIG_FILE).is_file():
        raise ModelLoadError(f"{folder}: not a transformer folder (no {CONFIG_FILE})")
    config = read_json(folder / CONFIG_FILE)
    kv_config = read_kv_config(folder)
    state_dict = read_sharded(weights_files(folder))
    return build_transformer(folder, config, state_dict, kv_config, device, dtype or torch.float32)


def build_transformer(
    origin: Path,
    config: dict[str, Any],
    state_dict: dict[str, torch.Tensor],
    kv_config: KVCompressionConfig | None,
    device: torch.device | str | None,
    dtype: torch.dtype | None,
) -> PixArtTransformer2DModel:
    """Build the model without random init, then adopt (and consume) `state_dict`'s tensors, cast to dtype if given."""
    class_name = config.get("_class_name", "PixArtTransformer2DModel")
    if class_name not in _TRANSFORMER_CLASSES or config.get("norm_type", "ada_norm_single") != "ada_norm_single":
        raise ModelLoadError(f"{origin}: holds a {class_name} config, not a PixArt transformer")
    try:
        # buffers stay real: the non-persistent sin-cos table is computed at construction, as in diffusers
        with init_empty_weights(include_buffers=False):
            model = PixArtTransformer2DModel.from_config({k: v for k, v in config.items() if k in _INIT_PARAMETERS})
        if kv_config is not None:
            apply_kv_compression(model, kv_config)
    except (TypeError, ValueError, NotImplementedError) as err:
        raise ModelLoadError(f"{origin}: invalid transformer config ({err})") from None
    weights: dict[str, torch.Tensor] = {}
    for key in list(state_dict):  # popped one by one so a cast never holds two full copies of the model
        tensor = state_dict.pop(key)
        weights[key] = tensor.to(dtype) if dtype and tensor.is_floating_point() else tensor
    expected = set(model.state_dict())
    # a folder may name a compression without carrying its weights: those start at the averaging init
    missing = sorted(k for k in expected - set(weights) if ".attn1.processor." not in k)
    unexpected = sorted(set(weights) - expected)
    if missing or unexpected:
        parts = [f"missing {_few(missing)}"] if missing else []
        parts += [f"unexpected {_few(unexpected)}"] if unexpected else []
        raise ModelLoadError(f"{origin}: weights do not fit the PixArt transformer config: {'; '.join(parts)}")
    try:
        model.load_state_dict(weights, strict=False, assign=True)
    except RuntimeError as err:
        detail = " ".join(line.strip() for line in str(err).splitlines()[1:4])
        raise ModelLoadError(f"{origin}: weights have the wrong shapes for this config: {detail}") from None
    _materialise_untrained_processors(model)
    return model.to(device or "cpu").eval()


def _materialise_untrained_processors(model: PixArtTransformer2DModel) -> None:
    """Give compression processors the file did not fill their averaging init (training-free use)."""
    for block in model.transformer_blocks:
        processor = block.attn1.processor
        if isinstance(processor, KVCompressionProcessor) and any(p.is_meta for p in processor.parameters()):
            dtype = block.attn1.to_k.weight.dtype
            fresh = KVCompressionProcessor(block.attn1.inner_dim, processor.ratio, processor.sampling, "cpu", dtype)
            block.attn1.set_processor(fresh)


def save_transformer(transformer: PixArtTransformer2DModel, folder: Path) -> None:
    """Write config.json, the weights (compression weights included) and kv_compression.json into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    transformer.save_config(folder)
    write_safetensors(transformer.state_dict(), folder / f"{WEIGHTS_NAME}.safetensors")
    kv_config = kv_compression_of(transformer)
    settings = folder / KV_CONFIG_FILE
    if kv_config is None:
        settings.unlink(missing_ok=True)
        return
    data = {**kv_config.to_dict(), "trained_weights": has_trained_kv_weights(transformer)}
    settings.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


@dataclass
class PixArtComponents:
    """Everything a PixArt-Σ pipeline is made of, loaded and placed."""

    tokenizer: Any
    text_encoder: Any
    vae: Any
    transformer: PixArtTransformer2DModel
    scheduler: Any
    info: ModelInfo


def load_pipeline_components(
    model: str | Path,
    transformer: str | Path | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    text_encoder_device: torch.device | str | None = None,
    text_encoder_8bit: bool = False,
    progress: Callable[[str, float], None] | None = None,
) -> PixArtComponents:
    """Load a pipeline folder's components from local files only; `transformer` overrides its transformer."""
    report = progress or (lambda _stage, _fraction: None)
    root = resolve_model_path(model)
    _check_pipeline_folder(root, needs_transformer=transformer is None)
    device = torch.device(device or "cpu")
    dtype = dtype or torch.float32
    loaded: dict[str, Any] = {}
    try:
        report("tokenizer", 0.0)
        loaded["tokenizer"] = load_tokenizer(root / "tokenizer")
        report("text encoder", 0.05)
        loaded["text_encoder"] = load_text_encoder(
            root / "text_encoder", text_encoder_device or device, dtype, text_encoder_8bit
        )
        report("vae", 0.6)
        loaded["vae"] = load_vae(root / "vae", device, dtype)
        report("transformer", 0.7)
        loaded["transformer"] = load_transformer(transformer or root, device, dtype)
        report("scheduler", 0.95)
        loaded["scheduler"] = load_scheduler(root / "scheduler")
        info = _info_of(model, root, transformer, loaded["transformer"])
    except BaseException:
        loaded.clear()  # nothing half-loaded survives a failure
        free_cached_memory(device)
        raise
    report("ready", 1.0)
    return PixArtComponents(info=info, **loaded)


def _check_pipeline_folder(root: Path, needs_transformer: bool) -> None:
    """ModelLoadError naming the first missing piece of a pipeline folder."""
    if not root.is_dir():
        raise ModelLoadError(f"{root}: a pipeline model must be a folder")
    if not (root / MODEL_INDEX_FILE).is_file():
        raise ModelLoadError(f"{root}: not a diffusers pipeline folder (no {MODEL_INDEX_FILE})")
    for name in PIPELINE_COMPONENTS:
        if name == "transformer" and not needs_transformer:
            continue
        if not (root / name).is_dir():
            raise ModelLoadError(f"{root}: the model folder is missing its {name}/ component")


def _info_of(model: str | Path, root: Path, override: str | Path | None, loaded: PixArtTransformer2DModel) -> ModelInfo:
    """The ModelInfo of what was loaded; with a transformer override its transformer fields describe the override."""
    if str(model) == DEMO_MODEL_NAME:
        source = ModelSource.DEMO
    else:
        source = ModelSource.HF_CACHE if "snapshots" in root.parts else ModelSource.FOLDER
    info = model_info(root, source, DEMO_MODEL_NAME if source is ModelSource.DEMO else None)
    if override is None:
        return info
    return replace(
        info,
        path=Path(override),  # what the transformer's hash and name describe: the weights actually loaded
        name=Path(override).stem,
        native_resolution=loaded.config.sample_size * 8,
        is_demo=False,
        has_trained_kv_weights=has_trained_kv_weights(loaded),
        kv_config=kv_compression_of(loaded),
        num_layers=loaded.config.num_layers,
        # The base folder's recommendations were made for its own transformer.
        guidance_scale=None,
        above_native=HighResMethod.AUTO,
    )


def _few(keys: list[str], limit: int = 4) -> str:
    """A short list of keys for an error message."""
    more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more

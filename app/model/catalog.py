"""Which models exist on this machine and what they are; reads JSON and file headers only, never imports torch."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path

from app.core.atomic_files import replace_atomic
from app.core.errors import ModelLoadError
from app.core.kv_config import KV_CONFIG_FILE, KVCompressionConfig
from app.core.model_info import ModelInfo, ModelSource
from app.core.paths import AppPaths
from app.core.request import MAX_GUIDANCE_SCALE
from app.core.resources import DEMO_MODEL_NAME, demo_model_dir
from app.core.sizes import HighResMethod
from app.model.layout import (
    CHECKPOINT_SUFFIXES,
    CONFIG_FILE,
    MODEL_INDEX_FILE,
    STUDIO_FILE,
    folder_size,
    infer_resolution,
    is_pipeline_folder,
    is_transformer_folder,
    read_json,
    safetensors_shapes,
    transformer_folder,
    weights_files,
)

log = logging.getLogger(__name__)
HASH_CACHE_FILE = "model-hashes.json"
_HASH_CHUNK = 8 * 1024 * 1024


def read_kv_config(folder: Path) -> KVCompressionConfig | None:
    """The KV compression saved in a transformer folder, or None when it has none."""
    path = folder / KV_CONFIG_FILE
    return _kv_config_from(path, read_json(path)) if path.is_file() else None


def _kv_config_from(path: Path, settings: dict) -> KVCompressionConfig:
    """`settings` (read from `path`) as a KVCompressionConfig, or ModelLoadError naming the file."""
    try:
        return KVCompressionConfig.from_dict(settings)
    except ValueError as err:
        raise ModelLoadError(f"{path}: {err}") from None


def model_info(path: Path, source: ModelSource, name: str | None = None) -> ModelInfo:
    """Describe a pipeline folder, transformer folder or original checkpoint file without loading weights."""
    if path.is_file():
        return _checkpoint_info(path, name or path.stem)
    folder = transformer_folder(path)
    if not (folder / CONFIG_FILE).is_file():
        raise ModelLoadError(f"{path}: neither a diffusers pipeline folder nor a transformer folder (no config.json)")
    config = read_json(folder / CONFIG_FILE)
    studio = read_json(path / STUDIO_FILE) if (path / STUDIO_FILE).is_file() else {}
    kv_path = folder / KV_CONFIG_FILE
    kv_settings = read_json(kv_path) if kv_path.is_file() else None
    kv_config = _kv_config_from(kv_path, kv_settings) if kv_settings is not None else None
    trained = (kv_settings or {}).get("trained_weights")
    if not isinstance(trained, bool):
        trained = any(".attn1.processor.conv." in key for key in _weight_names(folder))
    return ModelInfo(
        name=name or str(studio.get("name") or path.name),
        path=path,
        native_resolution=int(studio.get("native_resolution") or int(config.get("sample_size", 128)) * 8),
        is_demo=bool(studio.get("is_demo", source is ModelSource.DEMO)),
        has_trained_kv_weights=trained,
        kv_config=kv_config,
        size_bytes=folder_size(path),
        num_layers=int(config.get("num_layers", 28)),
        source=source,
        guidance_scale=_recommended_guidance(path / STUDIO_FILE, studio),
        above_native=_above_native(path / STUDIO_FILE, studio),
    )


def described_model(model: str, transformer: str | None = None) -> ModelInfo | None:
    """What `model`'s folder says about it (resolution, guidance, way above native), read without loading it.

    None with a transformer override (the folder's recommendations were made for its own transformer) or when the
    model cannot be read (its load says why).
    """
    if transformer is not None:
        return None
    try:
        source = ModelSource.DEMO if model == DEMO_MODEL_NAME else ModelSource.FOLDER
        return model_info(resolve_model_path(model), source)
    except ModelLoadError:
        return None


def _recommended_guidance(path: Path, studio: dict) -> float | None:
    """studio.json's guidance_scale, or ModelLoadError naming the file when it is not a usable scale."""
    value = studio.get("guidance_scale")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_GUIDANCE_SCALE:
        raise ModelLoadError(f"{path}: guidance_scale must be a number from 0 to {MAX_GUIDANCE_SCALE:g}, got {value!r}")
    return float(value)


def _above_native(path: Path, studio: dict) -> HighResMethod:
    """studio.json's above_native, or ModelLoadError naming the file and the valid choices."""
    value = studio.get("above_native", HighResMethod.AUTO.value)
    try:
        return HighResMethod(value)
    except ValueError:
        valid = ", ".join(method.value for method in HighResMethod)
        raise ModelLoadError(f"{path}: above_native must be one of {valid}, got {value!r}") from None


def _weight_names(folder: Path) -> list[str]:
    """Tensor names of a transformer folder's safetensors weights (empty for pickled .bin)."""
    names: list[str] = []
    for file in weights_files(folder, required=False):
        if file.suffix == ".safetensors":
            names.extend(safetensors_shapes(file))
    return names


def _checkpoint_info(path: Path, name: str) -> ModelInfo:
    """Describe an original checkpoint file from its name and (for safetensors) its header."""
    shapes = safetensors_shapes(path) if path.suffix == ".safetensors" else {}
    blocks = {int(m.group(1)) for k in shapes if (m := re.match(r"blocks\.(\d+)\.", k))}
    sr = {int(k.split(".")[1]): shape[-1] for k, shape in shapes.items() if k.endswith(".attn.sr.weight")}
    ratios = set(sr.values())
    kv_config = KVCompressionConfig(tuple(sr), ratios.pop(), "conv") if len(ratios) == 1 else None
    return ModelInfo(
        name=name,
        path=path,
        native_resolution=infer_resolution(path) or 0,
        is_demo=False,
        has_trained_kv_weights=bool(sr),
        kv_config=kv_config,
        size_bytes=path.stat().st_size,
        num_layers=len(blocks),
        source=ModelSource.CHECKPOINT,
    )


def resolve_model_path(model: str | Path) -> Path:
    """A model's folder: "demo", a local path, a name under the user's models folder, or a Hub id in the HF cache."""
    if str(model) == DEMO_MODEL_NAME:
        folder = demo_model_dir()
        if not folder.is_dir():
            raise ModelLoadError(f"{folder}: the demo model is missing from this installation; reinstall the app")
        return folder
    path = Path(model).expanduser()
    if path.exists():
        return path
    user_model = AppPaths.from_environment().models / str(model)
    if user_model.exists():
        return user_model
    if isinstance(model, str) and re.fullmatch(r"[\w.-]+/[\w.-]+", model):
        from huggingface_hub import snapshot_download  # imported here: only Hub ids need it

        try:
            return Path(snapshot_download(model, local_files_only=True))
        except Exception:  # every failure here means "not in the local cache"
            raise ModelLoadError(
                f"{model}: not found in the local Hugging Face cache; download it once with "
                f"`hf download {model}` (needs internet), or pass the path of a model folder"
            ) from None
    raise ModelLoadError(f"{model}: no such model folder or file")


def list_models(paths: AppPaths, hf_cache_dir: Path | None = None) -> list[ModelInfo]:
    """The demo, the user's model folders and checkpoints, and PixArt pipelines in the Hugging Face cache."""
    found: list[ModelInfo] = []
    demo = demo_model_dir()
    if (demo / MODEL_INDEX_FILE).is_file():
        _add(found, demo, ModelSource.DEMO, DEMO_MODEL_NAME)
    if paths.models.is_dir():
        for entry in sorted(paths.models.iterdir()):
            if entry.is_dir() and (is_pipeline_folder(entry) or is_transformer_folder(entry)):
                _add(found, entry, ModelSource.FOLDER, entry.name)
            elif entry.is_file() and entry.suffix in CHECKPOINT_SUFFIXES:
                _add(found, entry, ModelSource.CHECKPOINT, entry.stem)
    for repo_id, snapshot in _cached_pixart_pipelines(hf_cache_dir):
        _add(found, snapshot, ModelSource.HF_CACHE, repo_id)
    return found


def _add(found: list[ModelInfo], path: Path, source: ModelSource, name: str) -> None:
    """Append a model's info; a broken entry is logged and skipped so one bad folder hides nothing else."""
    try:
        found.append(model_info(path, source, name))
    except (ModelLoadError, ValueError, OSError) as err:
        log.warning("skipping model %s: %s", path, err)


def _cached_pixart_pipelines(cache_dir: Path | None) -> list[tuple[str, Path]]:
    """(repo id, newest snapshot folder) of PixArt pipelines in the Hugging Face cache."""
    from huggingface_hub import scan_cache_dir

    try:
        cache = scan_cache_dir(cache_dir)
    except Exception:  # no cache folder, or one huggingface_hub cannot read: nothing cached to offer
        return []
    pipelines = []
    for repo in sorted(cache.repos, key=lambda r: r.repo_id):
        if repo.repo_type != "model" or not repo.revisions:
            continue
        snapshot = max(repo.revisions, key=lambda r: r.last_modified).snapshot_path
        index = snapshot / MODEL_INDEX_FILE
        if index.is_file() and "pixart" in str(read_json(index).get("_class_name", "")).lower():
            pipelines.append((repo.repo_id, snapshot))
    return pipelines


def model_hash(path: Path) -> str:
    """A1111-style short hash: the first 10 hex digits of the sha256 of the transformer weights, cached."""
    path = Path(path)
    files = [path] if path.is_file() else weights_files(transformer_folder(path))
    cache_file = AppPaths.from_environment().cache / HASH_CACHE_FILE
    try:
        cache = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cache = {}
    key = "|".join(str(f.resolve()) for f in files)
    stamp = [[f.stat().st_size, f.stat().st_mtime_ns] for f in files]
    entry = cache.get(key)
    if isinstance(entry, dict) and entry.get("stamp") == stamp and isinstance(entry.get("sha256"), str):
        return entry["sha256"][:10]
    digest = hashlib.sha256()
    for file in files:
        with file.open("rb") as stream:
            while chunk := stream.read(_HASH_CHUNK):
                digest.update(chunk)
    cache[key] = {"stamp": stamp, "sha256": digest.hexdigest()}
    try:
        replace_atomic(cache_file, json.dumps(cache, indent=1).encode("utf-8"))
    except OSError as err:  # a read-only cache only costs recomputing next time
        log.warning("could not cache the hash of %s: %s", path, err)
    return digest.hexdigest()[:10]

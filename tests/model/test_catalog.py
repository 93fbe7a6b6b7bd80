"""Listing and resolving models from JSON and file headers only, and the cached A1111-style model hash."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from app.core.errors import ModelLoadError
from app.core.model_info import ModelSource
from app.core.paths import AppPaths
from app.core.resources import demo_model_dir
from app.core.sizes import HighResMethod
from app.model import catalog
from app.model.catalog import list_models, model_hash, resolve_model_path
from app.model.kv_compression import KVCompressionConfig, apply_kv_compression
from app.model.loading import save_transformer
from tests.model.tiny import original_state_dict, tiny_transformer


def _pipeline(folder: Path, studio: dict | None = None) -> Path:
    """A pipeline-shaped folder holding only what the catalog reads: model_index.json and the transformer."""
    model = tiny_transformer()
    apply_kv_compression(model, KVCompressionConfig(layers=(2, 3)))
    save_transformer(model, folder / "transformer")
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "PixArtSigmaPipeline"}))
    if studio is not None:
        (folder / "studio.json").write_text(json.dumps(studio))
    return folder


def test_list_models_finds_demo_user_folders_checkpoints_and_hf_cache(tmp_path, monkeypatch):
    """Demo, user folders, checkpoint files and cached PixArt pipelines are listed; broken entries are skipped."""
    demo = _pipeline(tmp_path / "demo-model", {"is_demo": True, "native_resolution": 256})
    monkeypatch.setattr(catalog, "demo_model_dir", lambda: demo)
    paths = AppPaths.from_environment()
    _pipeline(paths.models / "poster-model")
    (paths.models / "broken").mkdir()
    (paths.models / "broken" / "model_index.json").write_text("{not json")
    save_file(original_state_dict(depth=3, kv_layers=(2,)), paths.models / "PixArt-Sigma-XL-2-2K-MS.safetensors")
    snapshot = tmp_path / "hub" / "models--org--pixart-tiny" / "snapshots" / "abc123"
    _pipeline(snapshot)
    (tmp_path / "hub" / "models--org--pixart-tiny" / "refs").mkdir()
    (tmp_path / "hub" / "models--org--pixart-tiny" / "refs" / "main").write_text("abc123")

    models = {m.name: m for m in list_models(paths, hf_cache_dir=tmp_path / "hub")}
    assert set(models) == {"demo", "poster-model", "PixArt-Sigma-XL-2-2K-MS", "org/pixart-tiny"}
    assert models["demo"].is_demo and models["demo"].native_resolution == 256 and models["demo"].source == "demo"
    folder = models["poster-model"]
    assert (folder.source, folder.native_resolution, folder.num_layers) == ("folder", 64, 4)
    assert folder.kv_config == KVCompressionConfig(layers=(2, 3)) and not folder.has_trained_kv_weights
    assert folder.size_bytes > (paths.models / "poster-model" / "transformer" / "config.json").stat().st_size
    checkpoint = models["PixArt-Sigma-XL-2-2K-MS"]
    assert (checkpoint.source, checkpoint.native_resolution, checkpoint.num_layers) == ("checkpoint", 2048, 3)
    assert checkpoint.has_trained_kv_weights and checkpoint.kv_config == KVCompressionConfig(layers=(2,))
    assert models["org/pixart-tiny"].source == "hf-cache"


def test_catalog_does_not_import_torch(tmp_path):
    """Listing models works without importing torch, so the GUI starts fast."""
    code = (
        "import sys; from app.core.paths import AppPaths; from app.model.catalog import list_models; "
        "list_models(AppPaths.from_environment()); assert 'torch' not in sys.modules, 'torch imported'"
    )
    env = os.environ | {"PIXART_STUDIO_HOME": str(tmp_path), "HF_HUB_CACHE": str(tmp_path / "hub")}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_resolve_model_path(tmp_path, monkeypatch):
    """Local paths and user model names resolve; a Hub id missing from the cache says how to download it."""
    assert resolve_model_path(tmp_path) == tmp_path
    user_model = AppPaths.from_environment().models / "mine"
    user_model.mkdir(parents=True)
    assert resolve_model_path("mine") == user_model
    monkeypatch.setattr(catalog, "demo_model_dir", lambda: tmp_path / "absent")
    with pytest.raises(ModelLoadError, match="the demo model is missing"):
        resolve_model_path("demo")
    with pytest.raises(ModelLoadError, match=r"org/not-cached: not found in the local Hugging Face cache.*hf download"):
        resolve_model_path("org/not-cached")
    with pytest.raises(ModelLoadError, match=r"no-such-thing: no such model folder"):
        resolve_model_path("no-such-thing")


def test_model_hash_is_a1111_short_sha256_and_cached_by_size_and_mtime(tmp_path):
    """The hash is sha256[:10] of the weights; it is computed once per size+mtime, and again when they change."""
    weights = tmp_path / "transformer" / "diffusion_pytorch_model.safetensors"
    save_transformer(tiny_transformer(), weights.parent)
    expected = hashlib.sha256(weights.read_bytes()).hexdigest()[:10]
    assert model_hash(tmp_path) == expected
    stat = weights.stat()
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF  # same size, same mtime: the cached hash is returned without reading the file
    weights.write_bytes(bytes(data))
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert model_hash(tmp_path) == expected
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert model_hash(tmp_path) == hashlib.sha256(bytes(data)).hexdigest()[:10] != expected
    checkpoint = tmp_path / "ckpt.pth"
    torch.save({"state_dict": {"a": torch.ones(2)}}, checkpoint)
    assert model_hash(checkpoint) == hashlib.sha256(checkpoint.read_bytes()).hexdigest()[:10]


def test_a_folders_recommended_guidance_is_read_and_a_bad_one_is_named(tmp_path):
    """studio.json's guidance_scale becomes ModelInfo.guidance_scale; absent is None; a non-number names the file."""
    assert catalog.model_info(_pipeline(tmp_path / "plain"), ModelSource.FOLDER).guidance_scale is None
    recommends = _pipeline(tmp_path / "recommends", {"guidance_scale": 3})
    assert catalog.model_info(recommends, ModelSource.FOLDER).guidance_scale == 3.0
    broken = _pipeline(tmp_path / "broken", {"guidance_scale": "strong"})
    with pytest.raises(ModelLoadError, match=r"studio\.json: guidance_scale must be a number from 0 to 50"):
        catalog.model_info(broken, ModelSource.FOLDER)


def test_a_folders_way_above_native_size_is_read_and_a_bad_one_is_named(tmp_path):
    """studio.json's above_native becomes ModelInfo.above_native (the demo's is `enlarge`); absent is `auto`."""
    assert catalog.model_info(_pipeline(tmp_path / "plain"), ModelSource.FOLDER).above_native is HighResMethod.AUTO
    enlarges = _pipeline(tmp_path / "enlarges", {"above_native": "enlarge"})
    assert catalog.model_info(enlarges, ModelSource.FOLDER).above_native is HighResMethod.ENLARGE
    assert catalog.model_info(demo_model_dir(), ModelSource.DEMO).above_native is HighResMethod.ENLARGE
    broken = _pipeline(tmp_path / "broken", {"above_native": "sharpen"})
    valid = "auto, direct, refine, enlarge"
    with pytest.raises(ModelLoadError, match=rf"studio\.json: above_native must be one of {valid}, got 'sharpen'"):
        catalog.model_info(broken, ModelSource.FOLDER)

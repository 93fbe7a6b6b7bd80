"""The models a server offers, by id: the same catalog the model manager shows, and never a client's path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.model_info import ModelInfo, ModelSource
from app.core.paths import AppPaths
from app.model.catalog import list_models, model_info, resolve_model_path


@dataclass(frozen=True)
class ServerCatalog:
    """Model id → what it is and where it lives on this machine."""

    entries: dict[str, ModelInfo]

    @classmethod
    def build(cls, wanted: list[str] | None = None, paths: AppPaths | None = None) -> ServerCatalog:
        """Every model the model manager lists, or only the ids/paths given (`serve --models`)."""
        listed = {info.name: info for info in list_models(paths or AppPaths.from_environment())}
        if not wanted:
            return cls(listed)
        chosen: dict[str, ModelInfo] = {}
        for name in wanted:
            if name in listed:
                chosen[name] = listed[name]
                continue
            path = resolve_model_path(name)  # ModelLoadError names a model that is not on this machine
            source = ModelSource.CHECKPOINT if path.is_file() else ModelSource.FOLDER
            info = model_info(path, source, path.stem if path.is_file() else path.name)
            chosen[info.name] = info
        return cls(chosen)

    def path(self, model_id: str) -> Path:
        """Where a model id lives; KeyError when the server does not offer it."""
        return self.entries[model_id].path

    def public(self) -> list[dict[str, Any]]:
        """The catalog as clients see it: ids and properties, no paths."""
        return [
            {
                "id": name,
                "native_resolution": info.native_resolution,
                "is_demo": info.is_demo,
                "source": info.source,
                "size_bytes": info.size_bytes,
                "num_layers": info.num_layers,
                "has_trained_kv_weights": info.has_trained_kv_weights,
                "guidance_scale": info.guidance_scale,
                "above_native": info.above_native.value,
            }
            for name, info in self.entries.items()
        ]

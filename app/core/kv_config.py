"""Which self-attention layers compress keys and values, by how much and how; torch-free so catalogs can read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SAMPLINGS: tuple[str, ...] = ("conv", "uniform", "ave")
KV_CONFIG_FILE = "kv_compression.json"


@dataclass(frozen=True)
class KVCompressionConfig:
    """KV token compression of the listed blocks' self-attention by `ratio` in each grid direction."""

    layers: tuple[int, ...]
    ratio: int = 2
    sampling: str = "conv"  # "conv" (learned depthwise conv + LayerNorm) | "uniform" ([::R, ::R]) | "ave" (nearest)

    def __post_init__(self) -> None:
        if isinstance(self.layers, (str, bytes)) or not hasattr(self.layers, "__iter__"):
            raise ValueError(f"layers must be a list of block indices, got {self.layers!r}")
        layers = tuple(self.layers)
        if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in layers):
            raise ValueError(f"layers must be block indices ≥ 0, got {list(layers)!r}")
        if len(set(layers)) != len(layers):
            raise ValueError(f"layers must not repeat a block, got {list(layers)!r}")
        if not isinstance(self.ratio, int) or isinstance(self.ratio, bool) or self.ratio < 1:
            raise ValueError(f"ratio must be an integer ≥ 1 (1 turns compression off), got {self.ratio!r}")
        if self.sampling not in SAMPLINGS:
            raise ValueError(f"sampling must be one of {', '.join(SAMPLINGS)}, got {self.sampling!r}")
        object.__setattr__(self, "layers", tuple(sorted(layers)))

    @property
    def is_active(self) -> bool:
        """True when at least one layer is actually compressed (ratio > 1)."""
        return self.ratio > 1 and bool(self.layers)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as saved in a model folder's kv_compression.json."""
        return {"layers": list(self.layers), "ratio": self.ratio, "sampling": self.sampling}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KVCompressionConfig:
        """Read `to_dict`'s form back; unknown keys are ignored so files from newer versions still load."""
        if not isinstance(data, dict):
            raise ValueError(f"a KV compression config must be a JSON object, got {type(data).__name__}")
        if "layers" not in data:
            raise ValueError("layers is missing from the KV compression config; list the compressed block indices")
        return cls(
            layers=data["layers"],
            ratio=data.get("ratio", 2),
            sampling=data.get("sampling", "conv"),
        )


def released_config(num_layers: int = 28) -> KVCompressionConfig:
    """The paper's released setting: the deeper half of the blocks, R = 2, conv (layers 14–27 of 28)."""
    if num_layers < 1:
        raise ValueError(f"num_layers must be ≥ 1, got {num_layers}")
    return KVCompressionConfig(layers=tuple(range(num_layers // 2, num_layers)), ratio=2, sampling="conv")

"""Engine settings a user picks once (device, precision, memory), separate from each request."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

MAX_DEVICE_INDEX = 64


class DeviceChoice(str, Enum):
    """Where sampling runs; auto picks CUDA, then MPS, then CPU."""

    AUTO = "auto"
    CUDA = "cuda"
    MPS = "mps"
    CPU = "cpu"


class Precision(str, Enum):
    """Weights and activations dtype; auto is bf16 where supported, else fp16 on GPU, fp32 on CPU."""

    AUTO = "auto"
    FP32 = "fp32"
    FP16 = "fp16"
    BF16 = "bf16"


class TextEncoderPlacement(str, Enum):
    """Where the T5 encoder lives: with the transformer, on the CPU, or 8-bit on CUDA."""

    AUTO = "auto"
    DEVICE = "device"
    CPU = "cpu"
    INT8 = "8bit"


class VaeTiling(str, Enum):
    """Tiled VAE decode: auto above a size threshold or after out-of-memory, always, or never."""

    AUTO = "auto"
    ON = "on"
    OFF = "off"


@dataclass(frozen=True)
class EngineOptions:
    """Settings the engine applies to every job until they change."""

    device: DeviceChoice = DeviceChoice.AUTO
    precision: Precision = Precision.AUTO
    text_encoder: TextEncoderPlacement = TextEncoderPlacement.AUTO
    vae_tiling: VaeTiling = VaeTiling.AUTO
    preview_every: int = 2  # steps between live previews; 0 turns previews off
    device_index: int | None = None  # which CUDA GPU (cuda:N); None: the current one

    @property
    def device_label(self) -> str:
        """The device as the command line writes it: auto, cpu, cuda, cuda:N or mps."""
        if self.device is DeviceChoice.CUDA and self.device_index is not None:
            return f"cuda:{self.device_index}"
        return self.device.value

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the settings file."""
        return {k: (v.value if isinstance(v, Enum) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineOptions:
        """Read the settings file's form back; unknown or bad values fall back to the defaults."""
        defaults = cls()
        values: dict[str, Any] = {}
        for name, enum_type in (
            ("device", DeviceChoice),
            ("precision", Precision),
            ("text_encoder", TextEncoderPlacement),
            ("vae_tiling", VaeTiling),
        ):
            try:
                values[name] = enum_type(data.get(name, getattr(defaults, name)))
            except ValueError:
                values[name] = getattr(defaults, name)
        preview = data.get("preview_every", defaults.preview_every)
        values["preview_every"] = preview if isinstance(preview, int) and 0 <= preview <= 1000 else 2
        index = data.get("device_index")
        valid_index = isinstance(index, int) and not isinstance(index, bool) and 0 <= index < MAX_DEVICE_INDEX
        values["device_index"] = index if valid_index and values["device"] is DeviceChoice.CUDA else None
        return cls(**values)


def parse_device(text: str) -> tuple[DeviceChoice, int | None]:
    """'auto', 'cpu', 'cuda', 'cuda:N' or 'mps' as a choice and a GPU index; ValueError naming the valid forms."""
    name, _, index = text.strip().lower().partition(":")
    try:
        choice = DeviceChoice(name)
    except ValueError:
        choice = None
    if choice is not None and not index:
        return choice, None
    if choice is DeviceChoice.CUDA and index.isdigit() and int(index) < MAX_DEVICE_INDEX:
        return choice, int(index)
    raise ValueError(f"device {text!r} is not valid; choose auto, cpu, cuda, cuda:N (N a GPU number) or mps")

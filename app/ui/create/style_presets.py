"""Style presets: named phrases appended to a prompt, editable by the user and saved as JSON."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.core.atomic_files import replace_atomic
from app.core.errors import StoreError

log = logging.getLogger(__name__)

STYLES_FILE = "style-presets.json"


@dataclass(frozen=True)
class StylePreset:
    """A named phrase such as 'Film photo' → '35mm film photograph, natural grain, soft light'."""

    name: str
    text: str


DEFAULT_STYLES: tuple[StylePreset, ...] = (
    StylePreset("Poster: bold graphic", "bold graphic poster, flat vector shapes, strong typography-ready layout"),
    StylePreset("Poster: Swiss design", "Swiss international style poster, grid layout, geometric, limited palette"),
    StylePreset("Poster: vintage travel", "vintage travel poster, screen print texture, warm limited colours"),
    StylePreset("Wallpaper: minimal", "minimal wallpaper, soft gradients, lots of negative space, calm colours"),
    StylePreset("Wallpaper: cinematic landscape", "cinematic landscape, golden hour, volumetric light, ultra detailed"),
    StylePreset("Wallpaper: abstract 3D", "abstract 3D render, glossy shapes, studio lighting, depth of field"),
    StylePreset("Photo: film", "35mm film photograph, natural grain, soft window light, shallow depth of field"),
    StylePreset("Photo: studio portrait", "studio portrait photograph, softbox lighting, 85mm lens, sharp focus"),
    StylePreset("Photo: product", "product photography, seamless background, crisp reflections, high key"),
    StylePreset("Illustration: watercolour", "watercolour illustration, loose brush strokes, paper texture"),
    StylePreset("Illustration: ink", "ink illustration, fine linework, cross-hatching, high contrast"),
    StylePreset("Illustration: flat", "flat illustration, clean shapes, pastel palette, friendly"),
)


class StylePresets(QObject):
    """The user's style presets; the defaults until the user edits them."""

    presets_changed = Signal(list)

    def __init__(self, path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._path = path
        self._presets = self._load()

    @property
    def presets(self) -> list[StylePreset]:
        """The presets, in the order the user arranged them."""
        return list(self._presets)

    def set_presets(self, presets: list[StylePreset]) -> None:
        """Replace the presets and save them; StoreError says why when the file could not be written (the new
        presets still apply until the app closes)."""
        self._presets = [p for p in presets if p.name.strip() and p.text.strip()]
        self.presets_changed.emit(self.presets)
        data = json.dumps([asdict(p) for p in self._presets], indent=2).encode("utf-8")
        try:
            replace_atomic(self._path, data)
        except OSError as error:
            raise StoreError(
                f"The style presets could not be saved to {self._path}: {error.strerror or error}. "
                "They apply until you close the app."
            ) from None

    def reset(self) -> None:
        """Go back to the built-in presets."""
        self.set_presets(list(DEFAULT_STYLES))

    def _load(self) -> list[StylePreset]:
        if not self._path.is_file():
            return list(DEFAULT_STYLES)
        try:
            raw = json.loads(self._path.read_text(encoding="utf-8"))
            return [StylePreset(str(item["name"]), str(item["text"])) for item in raw]
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("style presets in %s are unreadable (%s); using the built-in ones", self._path, error)
            return list(DEFAULT_STYLES)


def append_style(prompt: str, style: StylePreset) -> str:
    """The prompt with a style's phrase added after a comma (once)."""
    prompt = prompt.rstrip().rstrip(",")
    if style.text in prompt:
        return prompt
    return f"{prompt}, {style.text}" if prompt else style.text

"""Style presets: named phrases appended to a prompt; the built-in ones until the user edits them."""

from __future__ import annotations

from dataclasses import dataclass


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


def append_style(prompt: str, style: StylePreset) -> str:
    """The prompt with a style's phrase added after a comma (once)."""
    prompt = prompt.rstrip().rstrip(",")
    if style.text in prompt:
        return prompt
    return f"{prompt}, {style.text}" if prompt else style.text

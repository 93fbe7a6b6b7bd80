"""The shapes world: one flat shape on a flat background, described by a fixed prompt template."""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import product

import numpy as np
from PIL import Image, ImageDraw

SIZES: dict[str, float] = {"small": 0.2, "large": 0.4}  # object extent as a fraction of the shorter side
COLORS: dict[str, tuple[int, int, int]] = {
    "red": (228, 26, 28),
    "orange": (255, 140, 0),
    "yellow": (255, 230, 20),
    "green": (30, 170, 60),
    "blue": (30, 90, 235),
    "purple": (150, 40, 200),
    "white": (255, 255, 255),
    "black": (0, 0, 0),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
# Position phrase -> (column, row) of the 3×3 grid.
POSITIONS: dict[str, tuple[int, int]] = {
    "in the center": (1, 1),
    "in the top left": (0, 0),
    "at the top": (1, 0),
    "in the top right": (2, 0),
    "on the left": (0, 1),
    "on the right": (2, 1),
    "in the bottom left": (0, 2),
    "at the bottom": (1, 2),
    "in the bottom right": (2, 2),
}
BACKGROUNDS: dict[str, tuple[int, int, int]] = {"white": (255, 255, 255), "black": (0, 0, 0), "gray": (128, 128, 128)}
POSITION_JITTER = 1 / 30  # of the shorter side, so an object never leaves its grid cell
SIZE_JITTER = 0.05  # relative
SUPERSAMPLE = 4  # drawn this many times larger, then downsampled: anti-aliased edges


@dataclass(frozen=True)
class Scene:
    """The attributes of one shapes-world image."""

    size: str
    color: str
    shape: str
    position: str
    background: str

    def __post_init__(self) -> None:
        for name, valid in (
            ("size", SIZES),
            ("color", COLORS),
            ("shape", SHAPES),
            ("position", POSITIONS),
            ("background", BACKGROUNDS),
        ):
            value = getattr(self, name)
            if value not in valid:
                raise ValueError(f"{name} {value!r} is not in the shapes world; choose one of: {', '.join(valid)}")
        if self.color == self.background:
            raise ValueError(f"color {self.color!r} equals the background; pick another color or background")

    @property
    def prompt(self) -> str:
        """The scene's prompt, exactly as the template writes it."""
        return f"a {self.size} {self.color} {self.shape} {self.position} on a {self.background} background"


def all_scenes() -> list[Scene]:
    """Every valid scene, in a fixed order (1188 of them)."""
    return [
        Scene(*combo)
        for combo in product(SIZES, COLORS, SHAPES, POSITIONS, BACKGROUNDS)
        if combo[1] != combo[4]  # color differs from the background
    ]


def parse_prompt(prompt: str) -> Scene | None:
    """The scene a template prompt describes, or None for any other text."""
    return _PROMPT_INDEX.get(prompt.strip().lower())


def draw_scene(scene: Scene, width: int, height: int, seed: int) -> Image.Image:
    """Draw a scene on a `width`×`height` canvas; the same seed always gives the same pixels."""
    layout = _layout(scene, width, height, seed)
    canvas = Image.new("RGB", (width * SUPERSAMPLE, height * SUPERSAMPLE), BACKGROUNDS[scene.background])
    _draw_shape(ImageDraw.Draw(canvas), shape=scene.shape, layout=layout, fill=COLORS[scene.color])
    return canvas.resize((width, height), Image.Resampling.BOX)


def shape_coverage(scene: Scene, shape: str, width: int, height: int, seed: int) -> np.ndarray:
    """(H, W) fraction of each pixel that `shape` covers when drawn in place of the scene's object: the seed gives
    every shape the same centre and extent."""
    layout = _layout(scene, width, height, seed)
    canvas = Image.new("L", (width * SUPERSAMPLE, height * SUPERSAMPLE), 0)
    _draw_shape(ImageDraw.Draw(canvas), shape=shape, layout=layout, fill=255)
    return np.asarray(canvas.resize((width, height), Image.Resampling.BOX), dtype=np.float32) / 255.0


def _layout(scene: Scene, width: int, height: int, seed: int) -> tuple[float, float, float]:
    """The object's centre and extent on the supersampled canvas, drawn from the seed."""
    if width < 16 or height < 16:
        raise ValueError(f"canvas {width}×{height} is too small; use at least 16×16 pixels")
    rng = random.Random(seed)
    short = min(width, height)
    column, row = POSITIONS[scene.position]
    cx = (column + 0.5) * width / 3 + rng.uniform(-1, 1) * POSITION_JITTER * short
    cy = (row + 0.5) * height / 3 + rng.uniform(-1, 1) * POSITION_JITTER * short
    extent = SIZES[scene.size] * short * (1 + rng.uniform(-1, 1) * SIZE_JITTER)
    return cx * SUPERSAMPLE, cy * SUPERSAMPLE, extent * SUPERSAMPLE


def _draw_shape(
    draw: ImageDraw.ImageDraw, shape: str, layout: tuple[float, float, float], fill: int | tuple[int, int, int]
) -> None:
    """One filled shape whose box is `extent` wide and high around the centre."""
    x, y, extent = layout
    half = extent / 2
    if shape == "circle":
        draw.ellipse((x - half, y - half, x + half, y + half), fill=fill)
    elif shape == "square":
        draw.rectangle((x - half, y - half, x + half, y + half), fill=fill)
    else:  # upright triangle: base and height both `extent`, so its box matches the other shapes'
        draw.polygon(((x, y - half), (x + half, y + half), (x - half, y + half)), fill=fill)


_PROMPT_INDEX: dict[str, Scene] = {scene.prompt: scene for scene in all_scenes()}

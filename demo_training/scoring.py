"""Read a shapes-world image back from its pixels: background, object color, grid cell, size class and shape."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from PIL import Image

from demo_training.shapes_world import BACKGROUNDS, COLORS, POSITIONS, Scene

OBJECT_DISTANCE = 80.0  # RGB distance from the background above which a pixel belongs to the object
SIZE_THRESHOLD = 0.3  # extent / shorter side between "small" (0.2) and "large" (0.4)
# An upright triangle is narrow at a quarter of its height and wide at three quarters (ratio 1/3; circles and
# squares 1), even with its apex cut off by the canvas edge. Box fill then tells circle (π/4) from square (1).
TAPER_BELOW, SQUARE_ABOVE = 0.7, 0.9
_CELL_NAMES = {cell: name for name, cell in POSITIONS.items()}


@dataclass(frozen=True)
class Reading:
    """What the scorer sees in an image; attributes are None when no object is found."""

    background: str
    color: str | None = None
    position: str | None = None
    size: str | None = None
    shape: str | None = None


def _nearest(rgb: np.ndarray, palette: dict[str, tuple[int, int, int]]) -> str:
    names = list(palette)
    distances = np.linalg.norm(np.array([palette[n] for n in names], dtype=np.float32) - rgb, axis=1)
    return names[int(distances.argmin())]


def _largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 4-connected region of a boolean mask (generated images can hold stray specks)."""
    labels = np.zeros(mask.shape, dtype=np.int32)
    height, width = mask.shape
    best_label, best_size, label = 0, 0, 0
    for y, x in zip(*np.nonzero(mask), strict=True):
        if labels[y, x]:
            continue
        label += 1
        labels[y, x] = label
        queue, size = deque([(y, x)]), 0
        while queue:
            cy, cx = queue.popleft()
            size += 1
            for ny, nx in ((cy - 1, cx), (cy + 1, cx), (cy, cx - 1), (cy, cx + 1)):
                if 0 <= ny < height and 0 <= nx < width and mask[ny, nx] and not labels[ny, nx]:
                    labels[ny, nx] = label
                    queue.append((ny, nx))
        if size > best_size:
            best_label, best_size = label, size
    return labels == best_label if best_label else mask


def read_image(image: Image.Image) -> Reading:
    """Score an image from its pixels alone."""
    pixels = np.asarray(image.convert("RGB"), dtype=np.float32)  # (H, W, 3)
    height, width, _ = pixels.shape
    border = np.concatenate([pixels[:2].reshape(-1, 3), pixels[-2:].reshape(-1, 3), pixels[:, :2].reshape(-1, 3)])
    border = np.concatenate([border, pixels[:, -2:].reshape(-1, 3)])
    background_rgb = np.median(border, axis=0)
    background = _nearest(background_rgb, BACKGROUNDS)
    mask = np.linalg.norm(pixels - background_rgb, axis=2) > OBJECT_DISTANCE  # (H, W)
    if mask.sum() < 4:
        return Reading(background)
    mask = _largest_component(mask)
    ys, xs = np.nonzero(mask)
    # The core (mask pixels whose 4 neighbours are in the mask too) avoids anti-aliased edge colors.
    core = mask.copy()
    core[1:] &= mask[:-1]
    core[:-1] &= mask[1:]
    core[:, 1:] &= mask[:, :-1]
    core[:, :-1] &= mask[:, 1:]
    color_pixels = pixels[core] if core.sum() >= 4 else pixels[mask]
    color = _nearest(np.median(color_pixels, axis=0), COLORS)
    cx, cy = xs.mean() + 0.5, ys.mean() + 0.5
    cell = (min(int(3 * cx / width), 2), min(int(3 * cy / height), 2))
    box_w, box_h = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    extent = max(box_w, box_h) / min(width, height)
    size = "small" if extent < SIZE_THRESHOLD else "large"
    rows = mask[ys.min() : ys.max() + 1].sum(axis=1)  # object width in each row
    taper = rows[int(0.25 * box_h)] / max(rows[int(0.75 * box_h)], 1)
    fill = len(xs) / (box_w * box_h)
    shape = "triangle" if taper < TAPER_BELOW else "square" if fill > SQUARE_ABOVE else "circle"
    return Reading(background, color, _CELL_NAMES[cell], size, shape)


def score(reading: Reading, scene: Scene) -> dict[str, bool]:
    """Per-attribute correctness of a reading against the scene its prompt asked for."""
    marks = {
        "color": reading.color == scene.color,
        "position": reading.position == scene.position,
        "size": reading.size == scene.size,
        "shape": reading.shape == scene.shape,
    }
    marks["all"] = all(marks.values())
    return marks

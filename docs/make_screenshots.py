"""Make docs/screenshots/*.png from the running app, offscreen.

    python docs/make_screenshots.py            # the demo model when built, else a stand-in renderer
    python docs/make_screenshots.py --stand-in # always the stand-in (fast, no torch)

The stand-in paints poster-like pictures with PIL so the screenshots show the window as a user sees it
after generating; the real engine (controller, worker, queue, gallery, viewer) runs either way.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw, ImageFilter  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.core.request import GenerationRequest, GenerationResult  # noqa: E402
from app.core.resources import demo_model_dir  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PROMPTS = (
    ("a vintage travel poster of a lighthouse at dusk, screen print texture", "2:3"),
    ("minimal wallpaper, soft gradient hills, calm pastel colours", "16:9"),
    ("retro sunset over the ocean, bold graphic poster", "3:4"),
    ("abstract 3D render, glossy shapes, studio lighting", "1:1"),
    ("mountain range at golden hour, cinematic landscape", "21:9"),
    ("Swiss style poster, geometric circles, limited palette", "A portrait"),
)
# What the demo model knows: its shapes world (docs/demo-model.md), at the aspect bins it was trained on.
DEMO_PROMPTS = (
    ("a large red circle in the center on a white background", "1:1"),
    ("a small blue square in the top left on a gray background", "4:3"),
    ("a large yellow triangle at the bottom on a black background", "3:4"),
    ("a large green square on the right on a white background", "16:9"),
    ("a small purple circle at the top on a white background", "9:16"),
    ("a large orange triangle in the center on a gray background", "1:1"),
)


@dataclass(frozen=True)
class _Info:
    name: str = "stand-in renderer"
    native_resolution: int = 1024
    is_demo: bool = False


@dataclass(frozen=True)
class _Step:
    step: int
    total: int
    elapsed_s: float
    eta_s: float
    phase: str
    preview: Any
    image_index: int
    image_count: int


def poster(width: int, height: int, seed: int, grain: bool = False) -> Image.Image:
    """A sunset-poster picture: gradient sky, sun, layered hills; the seed picks the palette."""
    rng = random.Random(seed)
    top = tuple(rng.randint(20, 90) for _ in range(3))
    bottom = (rng.randint(200, 255), rng.randint(90, 180), rng.randint(60, 140))
    sky = Image.new("RGB", (1, 256))
    for y in range(256):
        t = y / 255
        sky.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    image = sky.resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    cx, cy, radius = sun_centre(width, height, seed)
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=(255, 226, 160))
    for layer in range(4):
        shade = tuple(max(0, round(c * (0.55 - layer * 0.12))) for c in bottom)
        base = height * (0.58 + layer * 0.1)
        points = [(0, height)]
        phase = rng.uniform(0, 6.28)
        for x in range(0, width + 16, 16):
            wave = math.sin(x / width * (3 + layer) + phase) * height * 0.05
            points.append((x, base + wave))
        points.append((width, height))
        draw.polygon(points, fill=shade)
    image = image.filter(ImageFilter.GaussianBlur(0.6))
    if grain:  # screen-print grain: what a designer zooms in to check
        noise = Image.effect_noise((width, height), 40).convert("RGB")
        image = Image.blend(image, noise, 0.12)
    return image


def sun_centre(width: int, height: int, seed: int) -> tuple[float, float, float]:
    """Where poster() puts the sun (same random draws), to zoom onto its edge."""
    rng = random.Random(seed + 1_000_003)
    radius = min(width, height) * rng.uniform(0.12, 0.2)
    return width * rng.uniform(0.3, 0.7), height * rng.uniform(0.35, 0.55), radius


class StandInPipeline:
    """Implements the pipeline interface the engine worker calls, painting posters instead of sampling."""

    def __init__(self) -> None:
        self.info = _Info()

    def generate(
        self, request: GenerationRequest, on_step: Any, cancel_event: threading.Event, on_result: Any = None
    ) -> list[Any]:
        """One poster per batch image, with a few previews along the way."""
        results = []
        for index in range(request.batch_size):
            single = request.with_seed(request.seed + index)
            final = poster(single.width, single.height, single.seed)
            for step in range(1, single.steps + 1):
                if cancel_event.is_set():
                    from app.core.errors import GenerationCancelledError

                    raise GenerationCancelledError("cancelled")
                preview = final.resize((64, 64)).filter(ImageFilter.GaussianBlur(6 - 5 * step / single.steps))
                on_step(_Step(step, single.steps, step * 0.05, 0.0, "sampling", preview, index, request.batch_size))
            result = GenerationResult(image=final, request=single, model_name="stand-in", duration_s=1.0)
            if on_result is not None:
                on_result(result)
            results.append(result)
        return results

    def close(self) -> None:
        """Nothing to free."""


def stand_in_factory(model: str, transformer: Any = None, options: Any = None, progress: Any = None) -> Any:
    """pipeline_factory for EngineController."""
    return StandInPipeline()


def add_sample_models(folder: Path) -> None:
    """Two small model folders (configs and a one-tensor weights file) so the manager has rows to show."""
    import json

    import numpy as np
    from safetensors.numpy import save_file

    for name, sample_size, kv in (("sample-poster-finetune", 128, False), ("sample-sigma-2k", 256, True)):
        transformer = folder / name / "transformer" if kv else folder / name
        transformer.mkdir(parents=True)
        config = {"_class_name": "PixArtTransformer2DModel", "sample_size": sample_size, "num_layers": 28}
        (transformer / "config.json").write_text(json.dumps(config))
        key = "transformer_blocks.0.attn1.processor.conv.weight" if kv else "pos_embed.proj.weight"
        save_file({key: np.zeros((4,), dtype=np.float16)}, str(transformer / "diffusion_pytorch_model.safetensors"))
        if kv:
            (folder / name / "model_index.json").write_text(json.dumps({"_class_name": "PixArtSigmaPipeline"}))


def settle(app: QApplication, seconds: float = 0.3) -> None:
    """Let queued signals, background loads and repaints land."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def wait_until(app: QApplication, condition: Any, timeout: float = 600) -> None:
    """Process events until condition() holds."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the app did not finish in time")
        app.processEvents()
        time.sleep(0.01)


def mask_painting(app: QApplication, studio: Any, image: Any) -> None:
    """Inpaint on a 4096² source: the mask brushed over the sun with the mouse, the mask tools above the viewer."""
    from PySide6.QtCore import QPointF
    from PySide6.QtTest import QTest

    from app.core.source_image import GenerationMode

    window, flow = studio.window, studio.window.source_flow
    window.resizeDocks([window.gallery_dock], [300], Qt.Orientation.Horizontal)
    flow.use_image(image, "sunset-poster.png")
    wait_until(app, lambda: studio.state.image.source is not None)
    studio.state.image.mode = GenerationMode.INPAINT
    studio.state.prompt = "a hot air balloon with red and cream stripes drifting in the evening sky"
    settle(app, 0.5)
    window.viewer.item.wait_for_levels()
    window.viewer.fit()
    viewer, viewport = window.viewer, window.viewer.viewport()
    x, y, radius = sun_centre(4096, 4096, 11)
    flow.painter.brush_size = int(radius * 0.55)
    # Back-and-forth strokes that cover the sun and a little sky around it, as a hand would.
    path: list[tuple[float, float]] = []
    for row in range(6):
        level = y - radius * 0.95 + row * radius * 0.38
        ends = [(x - radius * 0.95, level), (x + radius * 0.95, level)]
        path += ends if row % 2 == 0 else ends[::-1]
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mousePress(viewport, left, none, viewer.mapFromScene(QPointF(*path[0])))
    for (x0, y0), (x1, y1) in itertools.pairwise(path):
        for step in range(1, 9):
            t = step / 8
            QTest.mouseMove(viewport, viewer.mapFromScene(QPointF(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t)))
    QTest.mouseRelease(viewport, left, none, viewer.mapFromScene(QPointF(*path[-1])))
    QTest.mouseMove(viewport, viewer.mapFromScene(QPointF(x + radius * 1.9, y + radius * 0.9)))
    for banner in list(window.banners.banners):
        banner.dismiss()  # the demo notice is in the main screenshot already
    settle(app, 0.5)
    window.grab().save(str(OUT / "mask_painting.png"))


def main() -> int:
    """Build the app in a temporary home, drive it, and save the four screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stand-in", action="store_true", help="use the stand-in renderer even if the demo exists")
    args = parser.parse_args()
    os.environ["PIXART_STUDIO_HOME"] = tempfile.mkdtemp(prefix="pixart-screens-")
    app = QApplication([])
    from app.application import build_studio  # after PIXART_STUDIO_HOME is set

    add_sample_models(Path(os.environ["PIXART_STUDIO_HOME"]) / "data" / "models")
    use_demo = (demo_model_dir() / "model_index.json").is_file() and not args.stand_in
    studio = build_studio(pipeline_factory=None if use_demo else stand_in_factory, use_system_trash=False)
    window, state = studio.window, studio.state
    window.resize(1480, 920)
    window.show()
    settle(app)
    OUT.mkdir(parents=True, exist_ok=True)

    prompts = DEMO_PROMPTS if use_demo else PROMPTS
    for prompt, aspect in prompts * 2:
        state.prompt, state.aspect = prompt, aspect
        window.generate()
    wait_until(app, lambda: studio.gallery.count() == 2 * len(prompts))
    window.flow.wait_for_saves()
    settle(app, 0.5)
    window.gallery_model.wait_for_thumbnails()
    settle(app, 0.5)
    state.prompt, state.aspect = prompts[0]
    window.gallery.select_item(window.gallery_model.item_at(len(prompts) - 1).id)
    window.show_item(window.gallery_model.item_at(len(prompts) - 1))
    window.prompt_editor.token_meter.wait_for_count()
    settle(app, 1.0)
    window.grab().save(str(OUT / "main_window.png"))

    from PySide6.QtGui import QImage

    big = poster(4096, 4096, 11, grain=True)
    image = QImage(big.tobytes(), 4096, 4096, 3 * 4096, QImage.Format.Format_RGB888).copy()
    window.viewer.set_image(image)
    window.viewer.item.wait_for_levels()
    window.viewer.actual_size()
    window.viewer.zoom_by(12)
    x, y, radius = sun_centre(4096, 4096, 11)
    window.viewer.centerOn(x - radius * 0.7071, y + radius * 0.7071)  # on the sun's lower-left edge
    settle(app, 0.3)
    window.viewer.report_pixel(window.viewer.viewport().rect().center())
    settle(app, 0.2)
    window.grab().save(str(OUT / "viewer_zoom.png"))

    window.resizeDocks([window.gallery_dock], [560], Qt.Orientation.Horizontal)
    settle(app, 0.5)
    window.gallery_model.wait_for_thumbnails()
    settle(app, 0.5)
    window.gallery_dock.grab().save(str(OUT / "gallery.png"))

    mask_painting(app, studio, image)

    manager = window.open_model_manager()
    settle(app, 0.5)
    manager.grab().save(str(OUT / "model_manager.png"))
    manager.close()
    window.close()
    print(f"wrote {', '.join(p.name for p in sorted(OUT.glob('*.png')))} to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""End to end with the real engine and the demo model: a gallery image as source, a mouse-painted mask, inpaint."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw
from PySide6.QtCore import QPointF, Qt
from pytestqt.qtbot import QtBot

from app.application import build_studio
from app.core.request import GenerationRequest, GenerationResult
from app.core.resources import demo_model_dir
from app.core.source_image import GenerationMode
from app.ui.create.state import SeedMode
from app.ui.gallery.lineage import lineage_of

pytestmark = pytest.mark.skipif(
    not (demo_model_dir() / "model_index.json").is_file(),
    reason=f"the demo model is not built yet ({demo_model_dir()} is missing); `pixart-studio train-demo` makes it",
)
SIDE = 128  # the demo model's native size
LEFT, NONE = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


def _source() -> Image.Image:
    image = Image.new("RGB", (SIDE, SIDE), "white")
    ImageDraw.Draw(image).ellipse((6, 6, 58, 58), fill=(220, 30, 30))
    return image


def test_inpaint_a_mouse_painted_mask_with_the_demo_model(qtbot: QtBot) -> None:
    """Use as source, paint the bottom-right cell, Generate: the result is in the gallery, made from the source,
    with the source's own pixels outside the mask and new ones inside it."""
    studio = build_studio(use_system_trash=False)
    window = studio.window
    window.show()
    qtbot.waitExposed(window)
    try:
        prompt = "a large red circle in the top left on a white background"
        source_item = studio.gallery.save(
            GenerationResult(image=_source(), request=GenerationRequest(prompt, width=SIDE, height=SIDE))
        )
        window.gallery_model.refresh()
        window.gallery.use_as_source.emit(source_item)
        qtbot.waitUntil(lambda: studio.state.image.source is not None, timeout=10_000)
        qtbot.mouseClick(window.side_panel.image_panel.mode_buttons[GenerationMode.INPAINT], LEFT)
        painter = window.source_flow.painter
        assert painter.active
        qtbot.keyClick(window.viewer, Qt.Key.Key_R)  # the rectangle tool
        viewer, viewport = window.viewer, window.viewer.viewport()
        qtbot.mousePress(viewport, LEFT, NONE, viewer.mapFromScene(QPointF(76, 76)))
        qtbot.mouseMove(viewport, viewer.mapFromScene(QPointF(100, 100)))
        qtbot.mouseRelease(viewport, LEFT, NONE, viewer.mapFromScene(QPointF(124, 124)))
        assert painter.has_mask()
        studio.state.steps = 8
        # A fixed seed: for a few random seeds the demo leaves the cell white, which reads as nothing repainted
        # (mean change 0.6); seeds 1-8 change it by 24-55, seed 3 by 48.
        studio.state.seed_mode, studio.state.seed = SeedMode.FIXED, 3
        studio.state.image.mask_blur = 2
        window.prompt_editor.prompt_edit.setPlainText("a small blue square in the bottom right on a white background")
        qtbot.mouseClick(window.generation_panel.generate_button, LEFT)
        qtbot.waitUntil(lambda: studio.gallery.count() == 2, timeout=300_000)
        window.flow.wait_for_saves()
        result = studio.gallery.page(0, 1)[0]
        lineage = lineage_of(result)
        assert lineage is not None and lineage.mode is GenerationMode.INPAINT and lineage.source_id == source_item.id
        made = np.asarray(Image.open(result.path).convert("RGB"), dtype=np.int16)
        kept = np.asarray(_source(), dtype=np.int16)
        mask = np.asarray(Image.open(io.BytesIO(painter.mask_png())), dtype=np.uint8)
        box_y, box_x = np.nonzero(mask)
        top, left = box_y.min(), box_x.min()
        outside = np.ones(mask.shape, bool)
        outside[max(0, top - 6) :, max(0, left - 6) :] = False  # clear of the mask and its feather
        assert np.abs(made - kept)[outside].max() <= 1
        inside = mask > 0
        assert np.abs(made - kept)[inside].mean() > 2  # the masked area was repainted
        qtbot.waitUntil(lambda: window.gallery_model.total == 2, timeout=10_000)
        assert f"made from #{source_item.id}" in window.gallery_model.data(
            window.gallery_model.index(0), Qt.ItemDataRole.ToolTipRole
        )
    finally:
        window.close()

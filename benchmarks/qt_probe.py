"""Child process of the app benchmarks: start-up, viewer painting and the gallery, measured offscreen.

`python -m benchmarks.qt_probe startup|viewer|gallery ...` prints one JSON line. Nothing here imports torch,
so the start-up probe sees exactly what the app imports. Times are CPU seconds (of the process, or of the GUI
thread where pool threads do background work meanwhile), which stay steady on a machine shared with other work.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MODEL_TIMEOUT_S = 600.0
VIEWPORT = (1280, 800)


def _wait_until(app: Any, done: Callable[[], bool], timeout_s: float) -> bool:
    """Process events until `done()` (True) or the timeout (False)."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            return False
        app.processEvents()
        time.sleep(0.002)
    return True


def startup(args: argparse.Namespace) -> dict[str, Any]:
    """Time from process start until the window is exposed (and, in mode model, until the model is ready)."""
    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication([sys.argv[0]])
    studio = None
    if args.mode == "bare":
        window = QMainWindow()
        window.resize(1480, 920)
    else:
        from app.application import build_studio
        from app.core.paths import AppPaths
        from app.ui.settings.preferences import open_preferences

        paths = AppPaths.from_environment().ensure()
        if args.model:
            open_preferences(paths).use_model(args.model)
        studio = build_studio(paths, use_system_trash=False)
        window = studio.window
    window.show()
    _wait_until(app, lambda: window.windowHandle() is not None and window.windowHandle().isExposed(), 30)
    app.processEvents()  # the first paint
    result: dict[str, Any] = {
        "cpu_s": time.process_time(),
        "wall_s": time.time() - args.spawned_at,
        "torch_imported": "torch" in sys.modules,
    }
    if args.mode == "model" and studio is not None:
        from app.engine.jobs import ModelState

        studio.controller.load_model()
        finished = (ModelState.READY, ModelState.FAILED)
        _wait_until(app, lambda: studio.controller.model_status.state in finished, MODEL_TIMEOUT_S)
        status = studio.controller.model_status
        result |= {"model_cpu_s": time.process_time(), "model_wall_s": time.time() - args.spawned_at}
        result |= {"model_state": status.state.value, "model_message": status.message}
        studio.controller.shutdown()
    QThreadPool.globalInstance().waitForDone(10_000)  # background reads finish before their receivers go
    app.processEvents()
    return result


def _frame_times(app: Any, render: Callable[[int], None], frames: int, clock: Callable[[], float]) -> list[float]:
    """CPU seconds on `clock` of each of `frames` renders (after one untimed)."""
    render(0)
    times = []
    for frame in range(1, frames + 1):
        app.processEvents()
        start = clock()
        render(frame)
        times.append(clock() - start)
    return times


def _test_image(side: int) -> Any:
    """A side×side RGB32 image with detail everywhere (a gradient crossed by a fine checker)."""
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter

    image = QImage(side, side, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    gradient = QLinearGradient(0, 0, side, side)
    gradient.setColorAt(0, QColor("#1d3557"))
    gradient.setColorAt(1, QColor("#e63946"))
    painter.fillRect(image.rect(), gradient)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(255, 255, 255, 60))
    cell = max(1, side // 512)
    for y in range(0, side, 64 * cell):
        for x in range((y // (64 * cell)) % 2 * 32 * cell, side, 64 * cell):
            painter.drawRect(QRect(x, y, 32 * cell, 32 * cell))
    painter.end()
    return image


def viewer(args: argparse.Namespace) -> dict[str, Any]:
    """Per-frame paint time of the app's viewer and of a plain QGraphicsPixmapItem view, at fit, 100% and 400%."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter, QPixmap
    from PySide6.QtWidgets import QApplication, QGraphicsPixmapItem, QGraphicsScene, QGraphicsView

    from app.ui.viewer.image_viewer import ImageViewer

    app = QApplication([sys.argv[0]])
    image = _test_image(args.side)
    studio_view = ImageViewer()
    studio_view.resize(*VIEWPORT)
    studio_view.show()
    studio_view.set_image(image)
    studio_view.item.wait_for_levels()  # the mip chain is built in the background in the app; settle it
    plain = QGraphicsView()
    plain.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    scene = QGraphicsScene(plain)
    pixmap_item = QGraphicsPixmapItem(QPixmap.fromImage(image))
    pixmap_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)  # the best a plain item does
    scene.addItem(pixmap_item)
    plain.setScene(scene)
    plain.resize(*VIEWPORT)
    plain.show()
    _wait_until(app, lambda: studio_view.windowHandle() is not None and studio_view.windowHandle().isExposed(), 30)
    target = QImage(studio_view.viewport().size(), QImage.Format.Format_RGB32)
    results: dict[str, Any] = {}
    for zoom in ("fit", "100%", "400%"):
        for name, view in (("studio", studio_view), ("plain", plain)):
            _set_zoom(view, zoom, args.side)

            def render(frame: int, view: QGraphicsView = view, zoom: str = zoom) -> None:
                if zoom != "fit":  # pan a little each frame, as a user dragging the image would
                    bar = view.horizontalScrollBar()
                    bar.setValue(bar.value() + (7 if frame % 20 < 10 else -7))
                view.viewport().render(target)

            # the whole process: Qt scales large images on worker threads
            results[f"{name} {zoom}"] = _frame_times(app, render, args.frames, time.process_time)
    return {"frame_cpu_s": results}


def _set_zoom(view: Any, zoom: str, side: int) -> None:
    """Fit the image, or show it at 100% / 400% around its centre."""
    from PySide6.QtGui import QTransform

    from app.ui.viewer.image_viewer import ImageViewer

    if isinstance(view, ImageViewer):
        view.fit() if zoom == "fit" else view.actual_size()
        if zoom == "400%":
            view.zoom_by(4.0)
    else:
        if zoom == "fit":
            scale = min((VIEWPORT[0] - 24) / side, (VIEWPORT[1] - 24) / side)
        else:
            scale = 1.0 if zoom == "100%" else 4.0
        view.setTransform(QTransform.fromScale(scale, scale))
    view.centerOn(side / 2, side / 2)


def gallery(args: argparse.Namespace) -> dict[str, Any]:
    """Open a gallery of `rows` images (files and index made beforehand), search it, and scroll the grid."""
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    from app.store.gallery import Gallery
    from app.ui.gallery.gallery_model import GalleryModel
    from app.ui.gallery.gallery_view import GalleryView

    app = QApplication([sys.argv[0]])
    start = time.thread_time()
    store = Gallery.open(args.root, args.root / ".thumbnails", use_system_trash=False)
    model = GalleryModel(store)
    view = GalleryView(model)
    view.resize(420, 900)
    view.show()
    _wait_until(app, lambda: view.windowHandle() is not None and view.windowHandle().isExposed(), 30)
    target = QImage(view.view.viewport().size(), QImage.Format.Format_RGB32)
    view.view.viewport().render(target)
    opened = time.thread_time() - start
    count = store.count()

    searches = {}
    for query in ("fox", "neon tig", "scene 4242", ""):
        start = time.thread_time()
        model.set_filter(query)
        view.view.viewport().render(target)
        searches[query or "(cleared)"] = time.thread_time() - start

    bar = view.view.verticalScrollBar()

    def render(_frame: int) -> None:
        bar.setValue(bar.value() + bar.pageStep() // 3)
        view.view.viewport().render(target)

    # the GUI thread only: thumbnails are made on pool threads meanwhile and do not hold up a frame
    frames = _frame_times(app, render, args.frames, time.thread_time)
    loaded = model.rowCount()
    model.wait_for_thumbnails()
    store.close()
    return {
        "open_cpu_s": opened,
        "count": count,
        "search_cpu_s": searches,
        "scroll_cpu_s": frames,
        "rows_loaded": loaded,
    }


def main(argv: list[str] | None = None) -> int:
    """Run one probe and print its JSON line."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    parser = argparse.ArgumentParser(prog="python -m benchmarks.qt_probe")
    probes = parser.add_subparsers(dest="probe", required=True)
    start = probes.add_parser("startup")
    start.add_argument("mode", choices=("bare", "window", "model"))
    start.add_argument("--model", default="", help="model folder the app should load (mode model)")
    start.add_argument("--spawned-at", type=float, default=time.time(), help="time.time() when the parent spawned us")
    view = probes.add_parser("viewer")
    view.add_argument("--side", type=int, required=True)
    view.add_argument("--frames", type=int, default=20)
    store = probes.add_parser("gallery")
    store.add_argument("--root", type=Path, required=True)
    store.add_argument("--frames", type=int, default=30)
    args = parser.parse_args(argv)
    result = {"startup": startup, "viewer": viewer, "gallery": gallery}[args.probe](args)
    print(json.dumps(result))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

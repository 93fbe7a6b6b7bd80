"""The composition root: builds paths, settings, gallery, engine controller and the main window, and runs them."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from app import __version__
from app.core.errors import StudioError
from app.core.model_info import ModelInfo
from app.core.paths import AppPaths
from app.engine.controller import EngineController
from app.engine.jobs import ModelState
from app.store.gallery import Gallery
from app.ui.create.prompt_history import PromptHistory
from app.ui.create.state import GenerationSettings
from app.ui.create.style_presets import StylePresets
from app.ui.gallery.gallery_model import GalleryModel
from app.ui.settings.preferences import Preferences, open_preferences
from app.ui.settings.server_settings import saved_server
from app.ui.shell.main_window import MainWindow
from app.ui.widgets.background import run_in_background
from app.ui.widgets.event_loop import asyncio_loop
from app.ui.widgets.theme import apply_theme

log = logging.getLogger(__name__)

LOG_FILE = "pixart-studio.log"
STARTUP_LOAD_DELAY_MS = 300  # load the model just after the window has painted, not before


@dataclass
class Studio:
    """Everything the running app is made of; tests and the screenshot script drive it directly."""

    app: QApplication
    paths: AppPaths
    preferences: Preferences
    gallery: Gallery
    controller: EngineController
    state: GenerationSettings
    window: MainWindow


def configure_logging(paths: AppPaths) -> Path:
    """Log to a rotating file in the user log folder (and warnings to stderr); returns the file."""
    paths.logs.mkdir(parents=True, exist_ok=True)
    log_file = paths.logs / LOG_FILE
    root = logging.getLogger()
    if not any(getattr(h, "baseFilename", None) == str(log_file) for h in root.handlers):
        handler = RotatingFileHandler(log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    return log_file


def _open_gallery(folder: Path, paths: AppPaths, use_system_trash: bool) -> Gallery:
    return Gallery.open(folder, paths.thumbnails, use_system_trash=use_system_trash)


def build_studio(
    paths: AppPaths | None = None,
    pipeline_factory: Callable[..., Any] | None = None,
    use_system_trash: bool = True,
) -> Studio:
    """Create (but do not show) the whole app; a QApplication must exist."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("build_studio needs a QApplication; create one first")
    paths = (paths or AppPaths.from_environment()).ensure()
    preferences = open_preferences(paths)
    apply_theme(app, preferences.theme)
    preferences.theme_changed.connect(lambda theme: apply_theme(app, theme))

    problems: list[tuple[str, str]] = []
    try:
        gallery = _open_gallery(preferences.output_folder, paths, use_system_trash)
    except StudioError as error:  # an unplugged drive must not stop the app: fall back to the default folder
        problems.append((f"Cannot open the output folder {preferences.output_folder}.", str(error)))
        gallery = _open_gallery(paths.gallery, paths, use_system_trash)
    if gallery.open_report.needs_attention:
        problems.append(("The gallery needed repairs.", gallery.open_report.summary()))

    controller = EngineController(
        model=preferences.model,
        transformer=preferences.transformer or None,
        options=preferences.engine_options,
        pipeline_factory=pipeline_factory,
        paths=paths,
        server=saved_server(preferences),
    )
    state = GenerationSettings()
    window = MainWindow(
        controller,
        GalleryModel(gallery),
        state,
        preferences,
        PromptHistory(preferences),
        StylePresets(preferences),
        paths,
        gallery_opener=lambda folder: _open_gallery(folder, paths, use_system_trash),
    )
    window.session.restore()
    window.saved_queue.offer(window.banners)
    for message, details in problems:
        window.show_error(message, details)
    if controller.model == "demo":
        window.show_demo_notice()
    _learn_the_model(controller, state, window)
    return Studio(app, paths, preferences, gallery, controller, state, window)


def _learn_the_model(controller: EngineController, state: GenerationSettings, window: MainWindow) -> None:
    """Read the active model's files (no loading) so sizes, guidance and the size line are right at once."""

    model = controller.model

    def follow(info: ModelInfo | None) -> None:
        # Too late once the model has loaded (it has told itself) or another was chosen (set_model has told).
        if controller.model == model and controller.model_status.state is not ModelState.READY:
            state.follow_model(info)

    run_in_background(controller.describe_model, follow, lambda error: log.warning("model: %s", error), window)


def _install_excepthook(window: MainWindow) -> None:
    """Unexpected errors in Qt callbacks go to the log and to an error banner instead of vanishing."""

    def hook(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        log.error("unhandled error", exc_info=(kind, error, trace))
        with contextlib.suppress(RuntimeError):  # the window may already be gone
            window.show_error(f"Unexpected error: {error}", "".join(traceback.format_exception(kind, error, trace)))

    sys.excepthook = hook


def run_gui(argv: list[str] | None = None) -> int:
    """Open the window and run until it closes; `pixart-studio` with no arguments lands here."""
    started = time.perf_counter()
    if QApplication.instance() is None:
        # Fractional scaling (150%) renders at the true scale instead of rounding to 1× or 2×.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication([sys.argv[0], *(argv or [])])
    app.setApplicationName("PixArt Studio")
    app.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName("pixart-studio")  # a static member of the GUI application
    paths = AppPaths.from_environment().ensure()
    log_file = configure_logging(paths)
    studio = build_studio(paths)
    _install_excepthook(studio.window)
    studio.window.show()
    log.info(
        "PixArt Studio %s: window shown %.2f s after start; log at %s",
        __version__,
        time.perf_counter() - started,
        log_file,
    )
    QTimer.singleShot(STARTUP_LOAD_DELAY_MS, studio.controller.load_model)
    asyncio_loop()  # the asyncio work (Hub downloads) runs on qasync's loop, inside Qt's event loop below
    app.exec()
    studio.controller.shutdown()
    return 0

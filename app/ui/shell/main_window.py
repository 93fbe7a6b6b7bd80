"""The main window: side panel, viewer with banners, gallery dock, menus, toolbar and status bar."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, Qt, QTimer, QUrl
from PySide6.QtGui import QCloseEvent, QDesktopServices, QDragEnterEvent, QDropEvent, QImage, QImageReader
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QVBoxLayout, QWidget

from app.core.errors import InvalidRequestError
from app.core.paths import AppPaths
from app.core.wording import counted
from app.engine.jobs import ModelState, ModelStatus
from app.store.gallery import Gallery
from app.store.items import GalleryItem
from app.store.metadata import read_image_settings
from app.ui.create.prompt_history import PromptHistory
from app.ui.create.state import GenerationSettings
from app.ui.create.style_preset_dialog import StylePresetDialog
from app.ui.create.style_presets import StylePresets
from app.ui.gallery.gallery_actions import GalleryActions
from app.ui.gallery.gallery_model import GalleryModel
from app.ui.gallery.gallery_view import GalleryView
from app.ui.models.model_manager import ModelManager
from app.ui.settings.preferences import Preferences, read_json, write_json
from app.ui.settings.settings_dialog import SettingsDialog
from app.ui.shell.banner import Banner, BannerArea
from app.ui.shell.generation_flow import GenerationFlow
from app.ui.shell.shortcuts import ShortcutsDialog
from app.ui.shell.side_panel import PANEL_WIDTH, SidePanel
from app.ui.shell.status_bar import StudioStatusBar
from app.ui.shell.window_actions import REAL_WEIGHTS_HELP, WindowActions
from app.ui.viewer.image_viewer import ImageViewer
from app.ui.widgets.background import run_in_background
from app.ui.widgets.drops import dropped_images
from app.ui.widgets.icons import app_icon
from app.ui.widgets.start_folders import pictures_folder

log = logging.getLogger(__name__)
_DEMO_NOTICE_KEY = "notices/demo_dismissed"
_NEWS_MS = 12000  # how long news of a finished action (settings loaded) stays

WINDOW_TITLE = "PixArt Studio"


class MainWindow(QMainWindow):
    """Builds the widgets, binds them to the state objects, and routes user commands to the controller."""

    def __init__(
        self,
        controller: Any,
        gallery_model: GalleryModel,
        state: GenerationSettings,
        preferences: Preferences,
        history: PromptHistory,
        styles: StylePresets,
        paths: AppPaths,
        gallery_opener: Callable[[Path], Gallery],
    ) -> None:
        super().__init__()
        self.setWindowTitle(WINDOW_TITLE)
        self.setWindowIcon(app_icon())
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.controller, self.state, self.preferences = controller, state, preferences
        self.gallery_model, self.history, self.styles, self.paths = gallery_model, history, styles, paths
        self.gallery_opener = gallery_opener
        self._demo_notice: Banner | None = None
        # Once closed, the demo notice stays closed on later launches too (it said all it has to say).
        self._demo_notice_dismissed = bool(preferences.settings.value(_DEMO_NOTICE_KEY, False, type=bool))
        self._image_load = 0  # bumps on every request so only the newest load shows
        self._full_screen_state: QByteArray | None = None

        self.viewer = ImageViewer()
        self.banners = BannerArea()
        center = QWidget()
        center.setObjectName("viewerArea")
        column = QVBoxLayout(center)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.banners)
        column.addWidget(self.viewer, 1)
        self.setCentralWidget(center)

        self.side_panel = SidePanel(state, preferences, history, styles, controller, controller.token_counter)
        self.prompt_editor = self.side_panel.prompt_editor
        self.generation_panel = self.side_panel.generation_panel
        self.side_dock = self._dock("createDock", "Create", self.side_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.gallery = GalleryView(gallery_model)
        self.gallery_dock = self._dock("galleryDock", "Gallery", self.gallery, Qt.DockWidgetArea.RightDockWidgetArea)
        self.resizeDocks([self.side_dock, self.gallery_dock], [PANEL_WIDTH, 300], Qt.Orientation.Horizontal)

        self.status = StudioStatusBar()
        self.setStatusBar(self.status)
        self.flow = GenerationFlow(controller, state, gallery_model, history, preferences, self)
        self.gallery_actions = GalleryActions(gallery_model, self, self)
        self.actions_ = WindowActions(self)
        self._connect()
        self.status.show_model(controller.model_status)
        self.status.show_zoom(self.viewer.zoom_percent)
        self.resize(1480, 920)

    # -- wiring ------------------------------------------------------------------------------

    def _dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        return dock

    def _connect(self) -> None:
        panel, flow, viewer, gallery = self.generation_panel, self.flow, self.viewer, self.gallery
        self.prompt_editor.generate_requested.connect(self.generate)
        self.prompt_editor.edit_styles_requested.connect(self.edit_styles)
        panel.generate_requested.connect(self.generate)
        panel.cancel_requested.connect(self.controller.cancel_current)
        flow.image_ready.connect(self._on_image_ready)
        flow.preview_ready.connect(lambda image: viewer.set_image(image, preview=True))
        flow.failed.connect(self.show_error)
        flow.load_failed.connect(self._on_load_failed)
        flow.invalid_settings.connect(self._on_invalid_settings)
        flow.message.connect(self.status.show_message)
        viewer.zoom_changed.connect(self.status.show_zoom)
        viewer.image_changed.connect(self.status.show_size)
        viewer.pixel_hovered.connect(self.status.show_pixel)
        gallery.item_selected.connect(self.show_item)
        gallery.reuse_prompt.connect(self._reuse_prompt)
        gallery.reuse_settings.connect(self.reuse_settings)
        gallery.reuse_seed.connect(self._reuse_seed)
        gallery.copy_requested.connect(self.gallery_actions.copy_image)
        gallery.open_location_requested.connect(self.gallery_actions.open_location)
        gallery.export_requested.connect(self.gallery_actions.export)
        gallery.delete_requested.connect(self.gallery_actions.delete)
        gallery.favourite_requested.connect(self.gallery_actions.set_favourite)
        gallery.files_dropped.connect(self.import_settings)
        viewer.files_dropped.connect(self.import_settings)
        self.gallery_actions.message.connect(self.status.show_message)
        self.gallery_actions.failed.connect(self.show_error)
        self.gallery_actions.deleted.connect(self._on_deleted)
        self.controller.model_status_changed.connect(self._on_model_status)
        self.controller.job_started.connect(lambda _info: panel.set_busy(True))
        for signal in (self.controller.job_finished, self.controller.job_cancelled):
            signal.connect(lambda _job_id: panel.set_busy(self.controller.is_busy))
        self.controller.job_failed.connect(lambda *_: panel.set_busy(self.controller.is_busy))
        self.controller.job_cancelled.connect(self._drop_stale_preview)
        self.controller.progress.connect(
            lambda p: viewer.show_progress(f"{p.phase.capitalize()} {p.step}/{p.total}" if self.isFullScreen() else "")
        )
        for signal in (self.controller.job_finished, self.controller.job_cancelled, self.controller.job_failed):
            signal.connect(lambda *_: viewer.show_progress(""))
        self.controller.job_failed.connect(self._drop_stale_preview)
        self.preferences.output_folder_changed.connect(self._on_output_folder_changed)
        self.preferences.engine_options_changed.connect(self.controller.set_options)

    # -- commands ----------------------------------------------------------------------------

    def generate(self) -> int | None:
        """Queue a job from the controls (Ctrl+Enter)."""
        job_id = self.flow.generate()
        if job_id is not None:
            self.generation_panel.set_busy(True)
        return job_id

    def cancel_or_leave_full_screen(self) -> None:
        """Esc: leave full screen first, else cancel the running job."""
        if self.isFullScreen():
            self.toggle_full_screen()
        else:
            self.controller.cancel_current()

    def show_error(self, message: str, details: str = "") -> Banner:
        """An error banner above the viewer, with details to copy."""
        log.warning("%s %s", message, details)
        one_line = details if details and "\n" not in details.strip() and len(details) < 300 else ""
        return self.banners.show_banner(Banner("error", message, one_line, details))

    def show_demo_notice(self) -> None:
        """The first-run notice: this is the demo model, and how to get real weights."""
        if self._demo_notice is not None or self._demo_notice_dismissed:
            return
        notice = Banner(
            "info",
            "You are using the built-in demo model",
            "It is tiny and only knows simple shapes, so it is for trying the app. " + REAL_WEIGHTS_HELP,
            actions=(("Open Models…", self.open_model_manager),),
            rich_message=True,
        )
        notice.dismissed.connect(self._on_demo_notice_dismissed)
        self._demo_notice = self.banners.show_banner(notice)

    def _on_demo_notice_dismissed(self) -> None:
        self._demo_notice = None
        self._demo_notice_dismissed = True
        self.preferences.settings.setValue(_DEMO_NOTICE_KEY, True)

    def show_item(self, item: GalleryItem) -> None:
        """Load a gallery image into the viewer."""
        self.show_file(item.path)

    def show_file(self, image_path: Path) -> None:
        """Load any image file into the viewer, decoded off the GUI thread."""
        self._image_load += 1
        ticket = self._image_load
        path = str(image_path)

        def load() -> QImage:
            reader = QImageReader(path)
            reader.setAllocationLimit(0)  # 8K images exceed Qt's default 256 MB limit
            image = reader.read()
            if image.isNull():
                raise ValueError(f"{path}: {reader.errorString()}")
            return image

        run_in_background(
            load,
            lambda image: self.viewer.set_image(image) if ticket == self._image_load else None,
            lambda error: self.show_error("Cannot open the image.", str(error)),
            context=self,
        )

    def reuse_settings(self, item: GalleryItem) -> None:
        """Fill every control from a gallery item."""
        request = item.request()
        if request is None:
            self.show_error("This image has no settings PixArt Studio can reuse.", str(item.path))
            return
        self.state.apply_request(request)
        self.status.show_message("Settings loaded from the image")

    def import_settings(self, paths: list[Path]) -> None:
        """Load the settings embedded in an image file (ours or another tool's)."""
        if not paths:
            return
        path = paths[0]
        run_in_background(
            lambda: read_image_settings(path),
            lambda imported: self._on_imported(path, imported),
            lambda error: self.show_error(f"Cannot read settings from {path.name}.", str(error)),
            context=self,
        )

    def open_model_manager(self) -> ModelManager:
        """Models dialog (Ctrl+M)."""
        dialog = ModelManager(self.controller, self.paths.models, self)
        dialog.model_chosen.connect(self.use_model)
        dialog.open()
        return dialog

    def use_model(self, model: str, transformer: str = "") -> None:
        """Make a model the active one, now and at the next start."""
        self.controller.set_model(model, transformer or None)
        self.preferences.model = model
        self.preferences.settings.setValue("engine/transformer", transformer)
        self.side_panel.prompt_editor.token_meter.recount()
        self.status.show_message(f"Model: {Path(transformer).name if transformer else model}")

    def open_settings(self) -> SettingsDialog:
        """Settings dialog (Ctrl+,)."""
        dialog = SettingsDialog(self.preferences, self)
        dialog.open()
        return dialog

    def edit_styles(self) -> None:
        """Style presets editor."""
        StylePresetDialog(self.styles, self).open()

    def show_shortcuts(self) -> None:
        """Help → Keyboard shortcuts (F1)."""
        ShortcutsDialog(self).open()

    def open_import_dialog(self) -> None:
        """File → Load settings from image…"""
        file, _ = QFileDialog.getOpenFileName(
            self, "Load settings from image", pictures_folder(), "Images (*.png *.jpg *.jpeg *.webp)"
        )
        if file:
            self.import_settings([Path(file)])

    def open_folder(self, folder: Path) -> None:
        """Show a folder in the system file manager."""
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def toggle_full_screen(self) -> None:
        """F11: the viewer alone on the whole screen, and back."""
        if self.isFullScreen():
            self.menuBar().show()
            self.status.show()
            if self._full_screen_state is not None:
                self.restoreState(self._full_screen_state)
            self.showNormal()
        else:
            self._full_screen_state = self.saveState()
            for widget in (self.side_dock, self.gallery_dock, self.menuBar(), self.status, self.actions_.toolbar):
                widget.hide()
            self.showFullScreen()
            self.viewer.setFocus()

    # -- persistence -------------------------------------------------------------------------

    def restore_session(self) -> None:
        """Window geometry, dock layout and the last parameters from the settings file."""
        settings = self.preferences.settings
        geometry, layout = settings.value("window/geometry"), settings.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(layout, QByteArray):
            self.restoreState(layout)
        self.state.restore(read_json(settings, "generation/parameters", {}))

    def save_session(self) -> None:
        """Write geometry, layout and parameters."""
        settings = self.preferences.settings
        if self.isFullScreen() and self._full_screen_state is not None:
            self.restoreState(self._full_screen_state)
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        write_json(settings, "generation/parameters", self.state.to_dict())
        self.preferences.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Save the session, stop the engine (cancelling a running job) and finish saving images."""
        self.save_session()
        self.controller.shutdown()
        self.flow.wait_for_saves()
        event.accept()

    # -- drag and drop -----------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept image files dropped anywhere on the window."""
        if dropped_images(event) and event.source() is None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Load the settings of a dropped image."""
        paths = dropped_images(event)
        if paths:
            event.acceptProposedAction()
            self.import_settings(paths)

    # -- reactions ---------------------------------------------------------------------------

    def _on_image_ready(self, image: QImage, item: GalleryItem | None) -> None:
        self.viewer.set_image(image)
        if item is not None:
            self.gallery.select_item(item.id)

    def _on_invalid_settings(self, message: str) -> None:
        banner = self.banners.show_banner(
            Banner("error", "These settings cannot make an image.", message, key="invalid-settings")
        )

        def dismiss_once_valid() -> None:
            try:
                self.state.plan()
            except InvalidRequestError:
                return
            banner.dismiss()

        # The banner goes as soon as the size is fixed, instead of staying to contradict the size line.
        self.state.size_changed.connect(dismiss_once_valid)
        banner.dismissed.connect(lambda: self.state.size_changed.disconnect(dismiss_once_valid))

    def _on_load_failed(self, message: str) -> None:
        self.banners.show_banner(
            Banner(
                "error",
                "The model could not be loaded.",
                f"{message.rstrip('.')}. The device, precision and text encoder are chosen in Settings; "
                "the model in Models.",
                actions=(("Open Settings…", self.open_settings), ("Open Models…", self.open_model_manager)),
            )
        )

    def _drop_stale_preview(self, *_: object) -> None:
        # A cancelled or failed job leaves its last preview behind: show the chosen image (or nothing) instead.
        if not self.viewer.is_preview:
            return
        item = self.gallery.current_item()
        if item is not None:
            self.show_item(item)
        else:
            self.viewer.clear()

    def _on_imported(self, path: Path, imported: Any) -> None:
        if imported.request is None:
            self.banners.show_banner(
                Banner("warning", f"No generation settings found in {path.name}", "It has no prompt metadata.")
            )
            return
        self.state.apply_request(imported.request)
        notes = " ".join(imported.notes)
        title = f"Settings loaded from {path.name} ({imported.source})"
        self.banners.show_banner(Banner("info", title, notes, key="settings-loaded", timeout_ms=_NEWS_MS))
        self.show_file(path)

    def _reuse_prompt(self, item: GalleryItem) -> None:
        self.state.prompt, self.state.negative_prompt = item.prompt, item.negative_prompt
        self.prompt_editor.focus_prompt()

    def _reuse_seed(self, item: GalleryItem) -> None:
        request = item.request()
        if request is not None:
            self.state.apply_seed(request)
        else:
            self.state.seed = item.seed

    def _on_deleted(self, count: int) -> None:
        banner = self.banners.show_banner(
            Banner(
                "info",
                f"Moved {counted(count, 'image')} to the trash",
                "Ctrl+Z brings them back.",
                actions=(("Undo", self.gallery_actions.undo_delete),),
                key="trash",  # Undo restores only the last deletion, so older offers go
            )
        )
        self.gallery_actions.restored.connect(banner.dismiss)

    def _on_model_status(self, status: ModelStatus) -> None:
        self.status.show_model(status)
        if status.state is not ModelState.READY:
            return
        if status.is_demo:
            self.show_demo_notice()
        elif self._demo_notice is not None:
            self._demo_notice.dismiss()

    def _on_output_folder_changed(self, folder: str) -> None:
        try:
            gallery = self.gallery_opener(Path(folder))
        except Exception as error:  # a bad folder must not close the app; the old gallery stays
            self.show_error(f"Cannot use {folder} as the output folder.", str(error))
            return
        self.gallery_model.set_gallery(gallery)
        self.status.show_message(f"Saving images to {folder}")

    def showEvent(self, event: Any) -> None:
        """Keyboard focus goes to the prompt when the window opens."""
        super().showEvent(event)
        QTimer.singleShot(0, self.prompt_editor.focus_prompt)

"""The main window: side panel, viewer with banners, gallery dock, menus, toolbar and status bar."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, Qt, QTimer, QUrl
from PySide6.QtGui import QCloseEvent, QDesktopServices, QDragEnterEvent, QDropEvent, QImage, QImageReader
from PySide6.QtWidgets import QDockWidget, QMainWindow, QVBoxLayout, QWidget

from app.core.paths import AppPaths
from app.store.gallery import Gallery
from app.store.items import GalleryItem
from app.store.pending_jobs import PendingJobsFile, pending_jobs_path
from app.ui.create.prompt_history import PromptHistory
from app.ui.create.state import GenerationSettings
from app.ui.create.style_preset_dialog import StylePresetDialog
from app.ui.create.style_presets import StylePresets
from app.ui.gallery.gallery_actions import GalleryActions
from app.ui.gallery.gallery_model import GalleryModel
from app.ui.gallery.gallery_view import GalleryView
from app.ui.models.model_manager import ModelManager
from app.ui.settings.preferences import Preferences
from app.ui.settings.server_settings import saved_server
from app.ui.settings.settings_dialog import SettingsDialog
from app.ui.shell.banner import Banner, BannerArea
from app.ui.shell.generation_flow import GenerationFlow
from app.ui.shell.help_dialogs import show_about, show_weights_help
from app.ui.shell.notices import Notices
from app.ui.shell.saved_queue import SavedQueue, confirm_quit
from app.ui.shell.session import Session
from app.ui.shell.settings_reuse import SettingsReuse
from app.ui.shell.shortcuts import ShortcutsDialog
from app.ui.shell.side_panel import PANEL_WIDTH, SidePanel
from app.ui.shell.source_flow import SourceFlow
from app.ui.shell.status_bar import StudioStatusBar
from app.ui.shell.window_actions import Command, ToolbarSide, WindowActions
from app.ui.viewer.image_viewer import ImageViewer
from app.ui.widgets.background import run_in_background
from app.ui.widgets.drops import dropped_images
from app.ui.widgets.icons import app_icon

if TYPE_CHECKING:
    from app.engine.controller import EngineController

log = logging.getLogger(__name__)

WINDOW_TITLE = "PixArt Studio"


class MainWindow(QMainWindow):
    """Builds the widgets, binds them to the state objects, and routes user commands to the controller."""

    def __init__(
        self,
        controller: EngineController,
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
        self.gallery = GalleryView(gallery_model, preferences)
        self.gallery_dock = self._dock("galleryDock", "Gallery", self.gallery, Qt.DockWidgetArea.RightDockWidgetArea)
        self.resizeDocks([self.side_dock, self.gallery_dock], [PANEL_WIDTH, 300], Qt.Orientation.Horizontal)

        self.status = StudioStatusBar()
        self.setStatusBar(self.status)
        self.flow = GenerationFlow(controller, state, gallery_model, history, preferences, self)
        self.gallery_actions = GalleryActions(gallery_model, self, self)
        self.notices = Notices(self)
        self.settings_reuse = SettingsReuse(self)
        self.session = Session(self, state, preferences)
        self.saved_queue = SavedQueue(controller, PendingJobsFile(pending_jobs_path(paths)), self)
        self.source_flow = SourceFlow(self)
        column.insertWidget(1, self.source_flow.mask_toolbar)  # between the banners and the viewer
        self.actions_ = WindowActions(self, self.commands())
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

    def commands(self) -> tuple[Command, ...]:
        """Every menu entry and toolbar button, in menu order: id, text, what it runs, keys, icon, menu."""
        c, viewer, lead, trail = Command, self.viewer, ToolbarSide.LEADING, ToolbarSide.TRAILING
        logs = self.paths.logs
        # fmt: off
        return (
            c("import_settings", "Load settings from image…", self.settings_reuse.open_import_dialog, ("Ctrl+O",),
              "folder", "&File"),
            c("export", "Export selected images…", self.export_selected, ("Ctrl+E",), "export", "&File"),
            c("open_output", "Open output folder", self.open_output_folder, (), "folder", "&File"),
            c("quit", "Quit", self.close, ("Ctrl+Q",), None, "&File", separator_before=True),
            c("undo_delete", "Undo delete", self.gallery_actions.undo_delete, ("Ctrl+Z",), "undo", "&Edit"),
            c("search", "Search the gallery", self.focus_search, ("Ctrl+F",), "search", "&Edit"),
            c("styles", "Style presets…", self.edit_styles, (), "style", "&Edit", separator_before=True),
            c("settings", "Settings…", self.open_settings, ("Ctrl+,",), "settings", "&Edit", toolbar=lead,
              toolbar_order=1),
            c("fit", "Fit to window", viewer.fit, (), "fit", "&View", key_hint="F", toolbar=trail),
            c("actual", "Actual pixels (100%)", viewer.actual_size, (), "actual-size", "&View", key_hint="1",
              toolbar=trail, toolbar_order=1),
            c("zoom_in", "Zoom in", viewer.zoom_in, (), "zoom-in", "&View", key_hint="+", toolbar=trail,
              toolbar_order=3),
            c("zoom_out", "Zoom out", viewer.zoom_out, (), "zoom-out", "&View", key_hint="−", toolbar=trail,
              toolbar_order=2),
            c("full_screen", "Full screen", self.toggle_full_screen, ("F11",), "fullscreen", "&View",
              separator_before=True, toolbar=trail, toolbar_order=4),
            c("show_create", "Create panel", lambda: self._toggle(self.side_dock), (), None, "&View",
              separator_before=True, checked=self.side_dock.isVisible),
            c("show_gallery", "Gallery", lambda: self._toggle(self.gallery_dock), (), None, "&View",
              checked=self.gallery_dock.isVisible),
            c("show_details", "Image details", self.toggle_details, ("Ctrl+I",), "info", "&View",
              checked=lambda: self.gallery_dock.isVisible() and self.gallery.info_toggle.isChecked()),
            c("generate", "Generate", self.generate, ("Ctrl+Return", "Ctrl+Enter"), "generate", "&Generate"),
            c("cancel", "Cancel", self.cancel_or_leave_full_screen, ("Esc",), "stop", "&Generate"),
            c("new_seed", "New random seed", self.generation_panel.roll_seed, ("Ctrl+R",), "dice", "&Generate",
              separator_before=True),
            c("focus_prompt", "Focus the prompt", self.prompt_editor.focus_prompt, ("Ctrl+L",), None, "&Generate"),
            c("clear_queue", "Clear the queue", self.controller.clear_queue, (), None, "&Generate"),
            c("models", "Models…", self.open_model_manager, ("Ctrl+M",), "model", "&Models", toolbar=lead),
            c("load_model", "Load the model now", self.controller.load_model, (), None, "&Models"),
            c("shortcuts", "Keyboard shortcuts", self.show_shortcuts, ("F1",), "keyboard", "&Help"),
            c("weights_help", "Getting real PixArt-Σ weights", lambda: show_weights_help(self), (), "download",
              "&Help"),
            c("logs", "Open the log folder", lambda: self.open_folder(logs), (), "folder", "&Help"),
            c("about", "About PixArt Studio", lambda: show_about(self), (), "info", "&Help", separator_before=True),
        )
        # fmt: on

    @staticmethod
    def _toggle(dock: QDockWidget) -> None:
        # The docks have no close button (a panel closed by a stray click confuses), so the View menu hides them.
        dock.setVisible(not dock.isVisible())

    def _connect(self) -> None:
        panel, flow, viewer, gallery = self.generation_panel, self.flow, self.viewer, self.gallery
        self.prompt_editor.generate_requested.connect(self.generate)
        self.prompt_editor.edit_styles_requested.connect(self.edit_styles)
        panel.generate_requested.connect(self.generate)
        panel.cancel_requested.connect(self.controller.cancel_current)
        flow.image_ready.connect(self._on_image_ready)
        flow.preview_ready.connect(lambda image: viewer.set_image(image, preview=True))
        flow.failed.connect(self.show_error)
        flow.load_failed.connect(self.notices.load_failed)
        flow.invalid_settings.connect(self.notices.invalid_settings)
        flow.message.connect(self.status.show_message)
        viewer.zoom_changed.connect(self.status.show_zoom)
        viewer.image_changed.connect(self.status.show_size)
        viewer.pixel_hovered.connect(self.status.show_pixel)
        gallery.item_selected.connect(self.show_item)
        gallery.reuse_prompt.connect(self.settings_reuse.reuse_prompt)
        gallery.reuse_settings.connect(self.settings_reuse.reuse_settings)
        gallery.reuse_seed.connect(self.settings_reuse.reuse_seed)
        gallery.copy_requested.connect(self.gallery_actions.copy_image)
        gallery.open_location_requested.connect(self.gallery_actions.open_location)
        gallery.export_requested.connect(self.gallery_actions.export)
        gallery.delete_requested.connect(self.gallery_actions.delete)
        gallery.favourite_requested.connect(self.gallery_actions.set_favourite)
        gallery.use_as_source.connect(self.source_flow.use_item)
        gallery.variations_requested.connect(self.source_flow.variations)
        gallery.show_source_requested.connect(self.show_source_of)
        gallery.files_dropped.connect(self.source_flow.dropped)
        viewer.files_dropped.connect(self.source_flow.dropped)
        self.gallery_actions.message.connect(self.status.show_message)
        self.gallery_actions.failed.connect(self.show_error)
        self.gallery_actions.deleted.connect(self.notices.deleted)
        self.controller.model_status_changed.connect(self.status.show_model)
        self.controller.model_status_changed.connect(self.notices.model_status)
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
        self.preferences.save_failed.connect(self.show_error)
        self.saved_queue.save_failed.connect(self.show_error)
        self.preferences.server_changed.connect(lambda *_: self.controller.set_server(saved_server(self.preferences)))
        self.controller.connection_changed.connect(self.notices.connection_changed)

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
        return self.notices.show_error(message, details)

    def show_demo_notice(self) -> None:
        """The first-run notice: this is the demo model, and how to get real weights."""
        self.notices.show_demo_notice()

    def show_item(self, item: GalleryItem) -> None:
        """Load a gallery image into the viewer."""
        self.show_file(item.path)
        self.source_flow.shown_item = item

    def show_file(self, image_path: Path) -> None:
        """Load any image file into the viewer, decoded off the GUI thread."""
        self.source_flow.shown_item, self.source_flow.shown_file = None, image_path
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

    def show_source_of(self, item_id: int) -> None:
        """Jump to the gallery image another was made from (lineage)."""
        if not self.gallery.jump_to(item_id):
            self.show_error(f"The source image #{item_id} is no longer in the gallery.", "It may have been deleted.")

    def open_model_manager(self) -> ModelManager:
        """Models dialog (Ctrl+M)."""
        dialog = ModelManager(self.controller, self.paths.models, self)
        dialog.model_chosen.connect(self.use_model)
        dialog.open()
        return dialog

    def use_model(self, model: str, transformer: str = "") -> None:
        """Make a model the active one, now and at the next start."""
        self.controller.set_model(model, transformer or None)
        self.preferences.use_model(model, transformer)
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

    def export_selected(self) -> None:
        """File → Export selected images (Ctrl+E)."""
        items = self.gallery.selected_items()
        if items:
            self.gallery_actions.export(items)
        else:
            self.status.show_message("Select images in the gallery to export")

    def toggle_details(self) -> None:
        """View → Image details (Ctrl+I): the gallery's info panel, with the gallery shown to hold it."""
        showing = self.gallery_dock.isVisible() and self.gallery.info_toggle.isChecked()
        if not showing:
            self.gallery_dock.show()
        self.gallery.info_toggle.setChecked(not showing)

    def focus_search(self) -> None:
        """Edit → Search the gallery (Ctrl+F)."""
        self.gallery_dock.show()
        self.gallery.search.setFocus()
        self.gallery.search.selectAll()

    def open_output_folder(self) -> None:
        """File → Open output folder: the current gallery's folder."""
        self.open_folder(self.gallery_model.gallery.root)

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

    # -- closing -----------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        """Ask first when jobs are in flight; then save the session, stop the engine and finish saving images."""
        running, waiting = int(self.controller.running_job is not None), len(self.controller.queued_jobs)
        if (running or waiting) and not confirm_quit(self, running, waiting):
            event.ignore()
            return
        self.session.save(self._full_screen_state if self.isFullScreen() else None)  # the layout before full screen
        self.controller.shutdown()
        self.flow.wait_for_saves()
        event.accept()

    # -- drag and drop -----------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept image files dropped anywhere on the window."""
        if dropped_images(event) and event.source() is None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Use a dropped image: load its settings, work from it, or both offered when it has settings."""
        paths = dropped_images(event)
        if paths:
            event.acceptProposedAction()
            self.source_flow.dropped(paths)

    # -- reactions ---------------------------------------------------------------------------

    def _on_image_ready(self, image: QImage, item: GalleryItem | None) -> None:
        self.viewer.set_image(image)
        self.source_flow.shown_item = item
        self.source_flow.shown_file = item.path if item is not None else None
        if item is not None:
            self.gallery.select_item(item.id)

    def _drop_stale_preview(self, *_: object) -> None:
        # A cancelled or failed job leaves its last preview behind: show the chosen image (or nothing) instead.
        if not self.viewer.is_preview:
            return
        item = self.gallery.current_item()
        if item is not None:
            self.show_item(item)
        else:
            self.viewer.clear()

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

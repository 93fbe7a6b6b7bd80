"""The window's actions, menus and toolbar; every command is reachable from the keyboard."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox, QSizePolicy, QToolBar, QToolButton, QWidget

from app import __version__
from app.ui.widgets.icons import icon

if TYPE_CHECKING:
    from app.ui.shell.main_window import MainWindow

REAL_WEIGHTS_HELP = (
    "For real posters and wallpapers use PixArt-Σ: open <b>Models</b> (Ctrl+M) and download "
    "<code>PixArt-alpha/PixArt-Sigma-XL-2-1024-MS</code> (several GB, most of it the T5 text encoder), or add a "
    "diffusers folder or an original <code>.pth</code>/<code>.safetensors</code> checkpoint you already have."
)


class WindowActions:
    """Creates the QActions once and puts them in the menu bar and toolbar."""

    def __init__(self, window: MainWindow) -> None:
        self._window = window
        w = window
        viewer = w.viewer
        self.generate = self._action("Generate", w.generate, ("Ctrl+Return", "Ctrl+Enter"), "generate")
        self.cancel = self._action("Cancel", w.cancel_or_leave_full_screen, ("Esc",), "stop")
        self.new_seed = self._action("New random seed", w.generation_panel.roll_seed, ("Ctrl+R",), "dice")
        self.focus_prompt = self._action("Focus the prompt", w.prompt_editor.focus_prompt, ("Ctrl+L",))
        self.clear_queue = self._action("Clear the queue", w.controller.clear_queue)
        # Single-key viewer shortcuts act in the viewer only (typing "f" in the prompt must stay an "f"):
        # the menu shows them after a tab, and the viewer's keyPressEvent handles them.
        self.fit = self._action("Fit to window\tF", viewer.fit, (), "fit")
        self.actual = self._action("Actual pixels (100%)\t1", viewer.actual_size, (), "actual-size")
        self.zoom_in = self._action("Zoom in\t+", viewer.zoom_in, (), "zoom-in")
        self.zoom_out = self._action("Zoom out\t−", viewer.zoom_out, (), "zoom-out")
        self.full_screen = self._action("Full screen", w.toggle_full_screen, ("F11",), "fullscreen")
        self.models = self._action("Models…", w.open_model_manager, ("Ctrl+M",), "model")
        self.load_model = self._action("Load the model now", w.controller.load_model)
        self.settings = self._action("Settings…", w.open_settings, ("Ctrl+,",), "settings")
        self.styles = self._action("Style presets…", w.edit_styles, (), "style")
        self.import_settings = self._action("Load settings from image…", w.open_import_dialog, ("Ctrl+O",), "folder")
        self.export = self._action("Export selected images…", self._export_selected, ("Ctrl+E",), "export")
        self.undo_delete = self._action("Undo delete", w.gallery_actions.undo_delete, ("Ctrl+Z",), "undo")
        self.search = self._action("Search the gallery", self._focus_search, ("Ctrl+F",), "search")
        self.open_output = self._action(
            "Open output folder", lambda: w.open_folder(w.gallery_model.gallery.root), (), "folder"
        )
        self.quit = self._action("Quit", w.close, ("Ctrl+Q",))
        self.shortcuts = self._action("Keyboard shortcuts", w.show_shortcuts, ("F1",), "keyboard")
        self.weights_help = self._action("Getting real PixArt-Σ weights", self._show_weights_help, (), "download")
        self.logs = self._action("Open the log folder", lambda: w.open_folder(w.paths.logs), (), "folder")
        self.about = self._action("About PixArt Studio", self._show_about, (), "info")
        self._build_menus()
        self.toolbar = self._build_toolbar()

    def _action(
        self, text: str, slot: Callable[[], object], keys: tuple[str, ...] = (), icon_name: str | None = None
    ) -> QAction:
        action = QAction(text, self._window)
        action.triggered.connect(lambda _checked=False: slot())
        if keys:
            action.setShortcuts([QKeySequence(key) for key in keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if icon_name:
            action.setIcon(icon(icon_name))
        tip = text.split("\t")[0]
        shown_keys = text.split("\t")[1] if "\t" in text else (keys[0] if keys else "")
        action.setToolTip(f"{tip} ({shown_keys})" if shown_keys else tip)
        action.setStatusTip(tip)
        self._window.addAction(action)  # shortcuts work even while the menu bar is hidden (full screen)
        return action

    def _build_menus(self) -> None:
        w = self._window
        bar = w.menuBar()
        menus: dict[str, tuple[QAction | None, ...]] = {
            "&File": (self.import_settings, self.export, self.open_output, None, self.quit),
            "&Edit": (self.undo_delete, self.search, None, self.styles, self.settings),
            "&View": (self.fit, self.actual, self.zoom_in, self.zoom_out, None, self.full_screen),
            "&Generate": (self.generate, self.cancel, None, self.new_seed, self.focus_prompt, self.clear_queue),
            "&Models": (self.models, self.load_model),
            "&Help": (self.shortcuts, self.weights_help, self.logs, None, self.about),
        }
        for title, actions in menus.items():
            menu: QMenu = bar.addMenu(title)
            for action in actions:
                if action is None:
                    menu.addSeparator()
                else:
                    menu.addAction(action)
            if title == "&View":
                menu.addSeparator()
                menu.addAction(w.side_dock.toggleViewAction())
                menu.addAction(w.gallery_dock.toggleViewAction())

    def _build_toolbar(self) -> QToolBar:
        toolbar = QToolBar("Toolbar", self._window)
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setIconSize(QSize(18, 18))
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.addAction(self.models)
        toolbar.addAction(self.settings)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        toolbar.addWidget(spacer)
        for action in (self.fit, self.actual, self.zoom_out, self.zoom_in, self.full_screen):
            toolbar.addAction(action)
            button = toolbar.widgetForAction(action)
            if isinstance(button, QToolButton):
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self._window.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        return toolbar

    def _export_selected(self) -> None:
        items = self._window.gallery.selected_items()
        if items:
            self._window.gallery_actions.export(items)
        else:
            self._window.status.show_message("Select images in the gallery to export")

    def _focus_search(self) -> None:
        self._window.gallery_dock.show()
        self._window.gallery.search.setFocus()
        self._window.gallery.search.selectAll()

    def _show_weights_help(self) -> None:
        QMessageBox.information(self._window, "Getting real PixArt-Σ weights", REAL_WEIGHTS_HELP)

    def _show_about(self) -> None:
        QMessageBox.about(
            self._window,
            "About PixArt Studio",
            f"<b>PixArt Studio {__version__}</b><br>Posters and wallpapers up to 4K with PixArt-Σ, on your own "
            "machine, offline.",
        )

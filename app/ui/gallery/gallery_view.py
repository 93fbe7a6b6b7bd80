"""The gallery panel: search, favourites filter, a thumbnail grid with a context menu, drag out and drop in, and
the selected image's details under it."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, QSize, Qt, QTimer, Signal, SignalInstance
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeySequence, QMouseEvent, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.wording import counted
from app.store.items import GalleryItem
from app.ui.gallery.gallery_delegate import CELL, GalleryDelegate
from app.ui.gallery.gallery_model import ITEM_ROLE, GalleryModel
from app.ui.gallery.info_panel import InfoPanel
from app.ui.gallery.lineage import lineage_of
from app.ui.settings.preferences import Preferences
from app.ui.widgets.drops import dropped_images
from app.ui.widgets.icons import icon

_SEARCH_DELAY_MS = 250


class GalleryListView(QListView):
    """The grid; drags out files and accepts image files dropped from elsewhere."""

    files_dropped = Signal(list)
    current_clicked = Signal(QModelIndex)  # a plain click on the item that was already current

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Clicking the current item again shows it again (after a live preview replaced it in the viewer)."""
        before = self.currentIndex()
        super().mousePressEvent(event)
        index = self.indexAt(event.position().toPoint())
        plain = event.modifiers() == Qt.KeyboardModifier.NoModifier
        if plain and event.button() == Qt.MouseButton.LeftButton and index.isValid() and index == before:
            self.current_clicked.emit(index)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept outside image files; our own drags are not drops."""
        if event.source() is not self and dropped_images(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        """Keep accepting what dragEnterEvent accepted."""
        if event.source() is not self and dropped_images(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        """Hand the files to whoever loads their settings."""
        paths = dropped_images(event)
        if paths and event.source() is not self:
            event.acceptProposedAction()
            self.files_dropped.emit(paths)


class GalleryView(QWidget):
    """Emits what the user asks for; the window decides what each action does."""

    item_selected = Signal(object)  # GalleryItem
    reuse_prompt = Signal(object)
    reuse_settings = Signal(object)
    reuse_seed = Signal(object)
    use_as_source = Signal(object)  # GalleryItem: work from this image
    variations_requested = Signal(object)  # GalleryItem: new seeds at a low strength
    show_source_requested = Signal(int)  # the gallery id of the image another was made from
    copy_requested = Signal(object)
    open_location_requested = Signal(object)
    export_requested = Signal(list)
    delete_requested = Signal(list)
    favourite_requested = Signal(list, bool)
    files_dropped = Signal(list)

    def __init__(self, model: GalleryModel, preferences: Preferences, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._preferences = preferences
        self.search = QLineEdit()
        self.search.setObjectName("gallerySearch")
        self.search.setPlaceholderText("Search prompts or a seed…")
        self.search.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition).setToolTip("Search")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search the gallery")
        self.search.setToolTip("Search prompts, or type a seed (Ctrl+F)")
        self._search_timer = QTimer(self, singleShot=True, interval=_SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._apply_filter)
        self.search.textChanged.connect(self._search_timer.start)

        self.favourites = QToolButton()
        self.favourites.setObjectName("favouritesFilter")
        self.favourites.setCheckable(True)
        self.favourites.setIcon(icon("star"))
        self.favourites.setToolTip("Show favourites only")
        self.favourites.setAccessibleName("Show favourites only")
        self.favourites.toggled.connect(self._on_favourites_toggled)
        self.count_label = QLabel()
        self.count_label.setProperty("role", "hint")

        self.view = GalleryListView()
        self.view.setObjectName("galleryView")
        self.view.setAccessibleName("Gallery")
        self.view.setModel(model)
        self.view.setItemDelegate(GalleryDelegate(self.view))
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setUniformItemSizes(True)
        self.view.setGridSize(QSize(CELL, CELL))
        self.view.setSpacing(0)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setDragEnabled(True)
        self.view.setAcceptDrops(True)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.view.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.view.setMouseTracking(True)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._show_menu)
        self.view.files_dropped.connect(self.files_dropped)
        self.view.selectionModel().currentChanged.connect(self._on_current_changed)
        self.view.current_clicked.connect(lambda index: self.item_selected.emit(index.data(ITEM_ROLE)))
        QShortcut(QKeySequence.StandardKey.Delete, self.view, lambda: self._emit_selected(self.delete_requested))
        QShortcut(QKeySequence.StandardKey.Copy, self.view, self._copy_current)

        self.info = InfoPanel()
        self.info.show_source_requested.connect(self.show_source_requested)
        self.info.open_location_requested.connect(self.open_location_requested)
        self.view.selectionModel().selectionChanged.connect(self._show_info)
        model.modelReset.connect(self._show_info)  # a reset drops the selection without selectionChanged
        model.rowsRemoved.connect(self._show_info)
        # The details share the dock's height with the grid through a splitter, so a user can give either more.
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("galleryInfoSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.info)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)  # a taller window gives the grid more rows, not the details
        self.info_toggle = QToolButton()
        self.info_toggle.setObjectName("galleryInfoToggle")
        self.info_toggle.setCheckable(True)
        self.info_toggle.setIcon(icon("info"))
        self.info_toggle.setToolTip("Show how the selected image was made")
        self.info_toggle.setAccessibleName("Show image details")
        self.info_toggle.setChecked(preferences.gallery_info_open)
        self.info.setVisible(preferences.gallery_info_open)
        self.info_toggle.toggled.connect(self._on_info_toggled)

        header = QHBoxLayout()
        header.setSpacing(4)
        header.addWidget(self.search, 1)
        header.addWidget(self.favourites)
        # The toggle sits in the footer, which stays at the dock's bottom edge whether the details show or not.
        footer = QHBoxLayout()
        footer.setSpacing(4)
        footer.addWidget(self.count_label, 1)
        footer.addWidget(self.info_toggle)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addLayout(header)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(footer)
        model.count_changed.connect(self._show_count)
        self._show_count(model.total)

    def selected_items(self) -> list[GalleryItem]:
        """Selected items in grid order."""
        rows = sorted(index.row() for index in self.view.selectionModel().selectedIndexes())
        return [self.model.item_at(row) for row in rows]

    def current_item(self) -> GalleryItem | None:
        """The focused item."""
        index = self.view.currentIndex()
        return index.data(ITEM_ROLE) if index.isValid() else None

    def select_item(self, item_id: int) -> None:
        """Make an item current and selected (e.g. the image just generated)."""
        row = self.model.row_of(item_id)
        if row >= 0:
            index = self.model.index(row)
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
            self.view.selectionModel().blockSignals(True)
            self.view.selectionModel().setCurrentIndex(index, flags)
            self.view.selectionModel().blockSignals(False)
            self.view.scrollTo(index)
            self.view.viewport().update()
            self._show_info()

    def jump_to(self, item_id: int) -> bool:
        """Select an image by id, clearing the search and favourites filter if they hide it; False if gone."""
        if self.model.row_of(item_id) < 0 and (self.search.text() or self.favourites.isChecked()):
            self.search.clear()
            self.favourites.setChecked(False)
            self._apply_filter()
        while self.model.row_of(item_id) < 0 and self.model.canFetchMore(QModelIndex()):
            self.model.fetchMore(QModelIndex())  # older images are loaded a page at a time
        row = self.model.row_of(item_id)
        if row < 0:
            return False
        self.view.setCurrentIndex(self.model.index(row))  # emits item_selected, so the viewer shows it
        self.view.scrollTo(self.model.index(row))
        return True

    def _apply_filter(self) -> None:
        self.model.set_filter(self.search.text().strip(), self.favourites.isChecked())

    def _on_favourites_toggled(self, checked: bool) -> None:
        self.favourites.setIcon(icon("star-filled" if checked else "star", "#f2c94c" if checked else None))
        self._apply_filter()

    def _show_count(self, total: int) -> None:
        filtered = self.search.text().strip() or self.favourites.isChecked()
        noun = "image" if total == 1 else "images"
        self.count_label.setText(f"{total} {noun}{' found' if filtered else ''}")
        if total == 0 and not filtered:
            self.count_label.setText("No images yet — generated images are kept here.")

    def _on_info_toggled(self, shown: bool) -> None:
        self.info.setVisible(shown)
        self._preferences.gallery_info_open = shown
        self._show_info()

    def _show_info(self, *_: object) -> None:
        if self.info_toggle.isChecked():  # closed, it catches up when opened
            self.info.show_items(self.selected_items(), self.model.gallery.root)

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.item_selected.emit(current.data(ITEM_ROLE))

    def _emit_selected(self, signal: SignalInstance) -> None:
        items = self.selected_items()
        if items:
            signal.emit(items)

    def _copy_current(self) -> None:
        item = self.current_item()
        if item is not None:
            self.copy_requested.emit(item)

    def _show_menu(self, position: QPoint) -> None:
        index = self.view.indexAt(position)
        if not index.isValid():
            return
        if not self.view.selectionModel().isSelected(index):
            self.view.setCurrentIndex(index)
        item: GalleryItem = index.data(ITEM_ROLE)
        items = self.selected_items() or [item]
        menu = QMenu(self)
        reusable = item.request() is not None
        menu.addAction(icon("history"), "Reuse prompt", lambda: self.reuse_prompt.emit(item))
        menu.addAction(icon("settings"), "Reuse all settings", lambda: self.reuse_settings.emit(item)).setEnabled(
            reusable
        )
        menu.addAction(icon("dice"), "Reuse seed", lambda: self.reuse_seed.emit(item))
        menu.addSeparator()
        menu.addAction(icon("image"), "Use as source", lambda: self.use_as_source.emit(item))
        menu.addAction(icon("variations"), "Variations", lambda: self.variations_requested.emit(item)).setEnabled(
            reusable
        )
        lineage = lineage_of(item)
        if lineage is not None:
            source_id = lineage.source_id
            text = f"Show source (#{source_id})" if source_id is not None else "Made from an image outside the gallery"
            action = menu.addAction(icon("right"), text, lambda: self.show_source_requested.emit(source_id))
            action.setEnabled(source_id is not None)
            action.setToolTip(lineage.describe())
        menu.addSeparator()
        menu.addAction(icon("copy"), "Copy image\tCtrl+C", lambda: self.copy_requested.emit(item))
        menu.addAction(icon("folder"), "Open file location", lambda: self.open_location_requested.emit(item))
        menu.addAction(
            icon("export"), f"Export {counted(len(items), 'image')}…", lambda: self.export_requested.emit(items)
        )
        favourite = not all(i.favourite for i in items)
        star_text = "Add to favourites" if favourite else "Remove from favourites"
        menu.addAction(icon("star"), star_text, lambda: self.favourite_requested.emit(items, favourite))
        menu.addSeparator()
        menu.addAction(
            icon("trash"), f"Delete {counted(len(items), 'image')}\tDel", lambda: self.delete_requested.emit(items)
        )
        menu.popup(self.view.viewport().mapToGlobal(position))

"""The model manager: the models on this machine, adding folders and checkpoints, Hub downloads, the active model."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.downloads import DownloadProgress
from app.core.estimates import format_bytes
from app.core.model_info import ModelInfo, ModelSource
from app.ui.models.download_panel import DownloadPanel
from app.ui.models.model_conversion import ModelConversion, resolution_from_name
from app.ui.widgets.icons import icon
from app.ui.widgets.start_folders import downloads_folder

log = logging.getLogger(__name__)

_SOURCES = {
    ModelSource.DEMO: "Demo",
    ModelSource.FOLDER: "Local folder",
    ModelSource.HF_CACHE: "Hugging Face cache",
    ModelSource.CHECKPOINT: "Checkpoint",
    ModelSource.SERVER: "Server",
}
_COLUMNS = ("Model", "Kind", "Native", "Size", "KV weights", "Location")
_RESOLUTIONS = ("256", "512", "1024", "2048")
_DEFAULT_RESOLUTION = "1024"
_MODEL_DESCRIPTIONS = ("model_index.json", "config.json")  # what the CLI also asks of a model folder


class ModelCatalog(Protocol):
    """What the manager asks of the engine controller: the active model, the models on this machine, downloads."""

    @property
    def model(self) -> str: ...

    def list_models(self) -> list[ModelInfo]: ...

    def download_model(
        self,
        repo_id: str,
        on_progress: Callable[[DownloadProgress], None],
        cancel: threading.Event,
        cache_dir: Path | None = None,
    ) -> Coroutine[Any, Any, Path]: ...


def selection_for(info: ModelInfo, base: str) -> tuple[str, str | None]:
    """(model, transformer) for controller.set_model: a lone transformer runs inside the base pipeline."""
    if info.source is ModelSource.DEMO:
        return "demo", None
    if info.source in (ModelSource.HF_CACHE, ModelSource.SERVER):
        return info.name, None
    if (Path(info.path) / "model_index.json").is_file():
        return str(info.path), None
    return base, str(info.path)


class ModelManager(QDialog):
    """Lists controller.list_models(); emits model_chosen(model, transformer or '') when the user picks one."""

    model_chosen = Signal(str, str)

    def __init__(self, controller: ModelCatalog, models_folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.setObjectName("modelManager")
        self.resize(880, 560)
        self._controller = controller
        self._models_folder = models_folder
        self._models: list[ModelInfo] = []
        self.conversion: ModelConversion | None = None

        intro = QLabel(
            "PixArt-Σ models on this machine. The demo model is tiny and draws simple shapes; for real images "
            "download PixArt-Σ below, or add a folder or an original <code>.pth</code>/<code>.safetensors</code> "
            "checkpoint."
        )
        intro.setWordWrap(True)
        intro.setProperty("role", "hint")
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setObjectName("modelTable")
        self.table.setAccessibleName("Models")
        self.table.setHorizontalHeaderLabels(_COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(_COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(self.use_selected)

        self.base_combo = QComboBox()
        self.base_combo.setAccessibleName("Base pipeline for lone transformers")
        self.base_combo.setToolTip("A converted transformer runs with this pipeline's VAE and text encoder")
        self.use_button = QPushButton(icon("model"), "Use selected model")
        self.use_button.setProperty("role", "primary")
        self.use_button.clicked.connect(self.use_selected)
        add_folder = QPushButton(icon("folder"), "Add folder…")
        add_folder.setToolTip("A diffusers PixArt-Σ pipeline or transformer folder")
        add_folder.clicked.connect(self._choose_folder)
        add_checkpoint = QPushButton(icon("plus"), "Add checkpoint…")
        add_checkpoint.setToolTip("Convert an original PixArt .pth or .safetensors transformer")
        add_checkpoint.clicked.connect(self._choose_checkpoint)
        buttons = QHBoxLayout()
        buttons.addWidget(add_folder)
        buttons.addWidget(add_checkpoint)
        buttons.addStretch(1)
        buttons.addWidget(QLabel("Base for transformers"))
        buttons.addWidget(self.base_combo)
        buttons.addWidget(self.use_button)

        self.task_bar = QProgressBar()
        self.task_bar.setRange(0, 1000)
        self.task_bar.setVisible(False)
        self.task_label = QLabel()
        self.task_label.setProperty("role", "hint")
        self.task_label.setWordWrap(True)
        self.task_label.setVisible(False)
        self.task_cancel = QPushButton(icon("stop"), "Cancel conversion")
        self.task_cancel.setVisible(False)
        self.task_cancel.clicked.connect(lambda: self.conversion.cancel() if self.conversion else None)
        task_row = QHBoxLayout()
        task_row.addWidget(self.task_bar, 1)
        task_row.addWidget(self.task_cancel)

        self.download = DownloadPanel(controller.download_model, self)
        self.download.downloaded.connect(lambda *_: self.refresh())
        download_box = QGroupBox("Download from the Hugging Face Hub")
        QVBoxLayout(download_box).addWidget(self.download)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        # The task rows take no room while hidden. Between the table (which stretches) and the buttons, they take
        # their room from the table when they appear, so the buttons and the download box below stay put.
        layout.addLayout(task_row)
        layout.addWidget(self.task_label)
        layout.addLayout(buttons)
        layout.addWidget(download_box)
        self.refresh()

    @property
    def models(self) -> list[ModelInfo]:
        """The ModelInfos shown, in table order."""
        return list(self._models)

    def refresh(self) -> None:
        """Read the models again (cheap: JSON and file headers only)."""
        self._models = self._controller.list_models()
        active = self._controller.model
        self.table.setRowCount(len(self._models))
        bold = QFont(self.font())
        bold.setBold(True)
        for row, info in enumerate(self._models):
            is_active = selection_for(info, active) == (active, None)
            name = f"● {info.name}" if is_active else info.name
            native = f"{info.native_resolution} px" if info.native_resolution else "unknown"
            cells = (
                name,
                _SOURCES[info.source],
                native,
                format_bytes(info.size_bytes),
                "trained" if info.has_trained_kv_weights else "—",
                "on the server" if info.source == "server" else str(info.path),
            )
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setToolTip(str(info.path))
                if is_active:
                    cell.setFont(bold)
                self.table.setItem(row, column, cell)
            if is_active:
                self.table.selectRow(row)
        self.base_combo.clear()
        for info in self._models:
            if (
                info.source in (ModelSource.DEMO, ModelSource.HF_CACHE, ModelSource.SERVER)
                or (Path(info.path) / "model_index.json").is_file()
            ):
                self.base_combo.addItem(info.name, selection_for(info, active)[0])
        if not self._models:
            self._tell("No models found; the demo model is missing from this installation.", error=True)

    def use_selected(self) -> None:
        """Make the selected model the active one."""
        row = self.table.currentRow()
        if not 0 <= row < len(self._models):
            return
        base = self.base_combo.currentData() or "demo"
        model, transformer = selection_for(self._models[row], base)
        self.model_chosen.emit(model, transformer or "")
        self.refresh()

    def add_folder(self, folder: Path) -> None:
        """Link a model folder into the user's models folder so it is listed from now on."""
        if not any((folder / name).is_file() for name in _MODEL_DESCRIPTIONS):
            self._tell(f"{folder} is not a model folder (it has no {' or '.join(_MODEL_DESCRIPTIONS)})", error=True)
            return
        self._models_folder.mkdir(parents=True, exist_ok=True)
        link = self._models_folder / folder.name
        try:
            if link.exists() or link.is_symlink():
                raise FileExistsError(f"{link} already exists; rename the folder or remove the old one")
            os.symlink(folder, link, target_is_directory=True)
        except OSError as error:
            self._tell(
                f"Could not add {folder}: {error}. You can also copy the folder into {self._models_folder}.",
                error=True,
            )
            return
        self._tell(f"Added {folder.name}.")
        self.refresh()

    def convert_checkpoint(self, src: Path, resolution: int | None) -> ModelConversion:
        """Start converting a checkpoint into the models folder; progress shows under the table."""
        dest = self._models_folder / src.stem
        conversion = ModelConversion(src, dest, resolution, self)
        conversion.progress.connect(self._on_conversion_progress)
        conversion.finished.connect(self._on_conversion_finished)
        conversion.failed.connect(self._on_conversion_failed)
        self.conversion = conversion
        self.task_bar.setVisible(True)
        self.task_cancel.setVisible(True)
        conversion.start()
        return conversion

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a model folder", downloads_folder())
        if folder:
            self.add_folder(Path(folder))

    def _choose_checkpoint(self) -> None:
        file, _ = QFileDialog.getOpenFileName(
            self, "Add a PixArt checkpoint", downloads_folder(), "PixArt checkpoints (*.pth *.pt *.safetensors)"
        )
        if not file:
            return
        src = Path(file)
        resolution = self.ask_resolution(src)
        if resolution is not None:
            self.convert_checkpoint(src, resolution)

    def ask_resolution(self, src: Path) -> int | None:
        """The training resolution, asked here (preset from the file name when it says one); None if cancelled."""
        guess = str(resolution_from_name(src) or "")
        default = _RESOLUTIONS.index(guess if guess in _RESOLUTIONS else _DEFAULT_RESOLUTION)
        said = "its name says" if guess in _RESOLUTIONS else "its name does not say; PixArt-Σ's main model is 1024"
        choice, accepted = QInputDialog.getItem(
            self, "Training resolution", f"{src.name} was trained at ({said}):", _RESOLUTIONS, default, False
        )
        return int(choice) if accepted else None

    def _on_conversion_progress(self, fraction: float, stage: str) -> None:
        self.task_bar.setValue(round(fraction * 1000))
        self._tell(f"Converting: {stage}")

    def _on_conversion_finished(self, dest: str) -> None:
        self._end_conversion(f"Converted to {dest}. Select it and press “Use selected model”.", error=False)
        self.refresh()

    def _on_conversion_failed(self, message: str, output: str) -> None:
        log.warning("conversion failed: %s\n%s", message, output)
        self._end_conversion(message, error=message != "Conversion cancelled.")

    def _end_conversion(self, text: str, error: bool) -> None:
        self.task_cancel.setVisible(False)
        self.task_bar.setVisible(False)
        self._tell(text, error)
        self.conversion = None

    def _tell(self, text: str, error: bool = False) -> None:
        """The line under the table, shown while it has something to say; errors in red, like the download box's."""
        self.task_label.setText(text)
        self.task_label.setVisible(bool(text))
        self.task_label.setProperty("level", "danger" if error else "")
        self.task_label.style().polish(self.task_label)

    def done(self, result: int) -> None:
        """Closing the dialog stops a running conversion and download."""
        if self.conversion is not None:
            self.conversion.cancel()
            self.conversion.process.waitForFinished(3000)
        self.download.cancel()
        super().done(result)

    def keyPressEvent(self, event: Any) -> None:
        """Enter uses the selected model."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.table.hasFocus():
            self.use_selected()
            return
        super().keyPressEvent(event)

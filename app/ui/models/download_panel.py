"""The Hub download box of the model manager: repo id, Download / Pause / Cancel, progress."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.downloads import DEFAULT_REPO, DownloadCancelledError, DownloadError, DownloadProgress
from app.core.estimates import format_bytes
from app.ui.widgets.event_loop import start_task
from app.ui.widgets.icons import icon

log = logging.getLogger(__name__)

# repo id, progress callback, cancel event, cache folder (None: the Hugging Face default) -> the snapshot folder
Downloader = Callable[[str, Callable[[DownloadProgress], None], threading.Event, Path | None], Awaitable[Path]]


class DownloadPanel(QWidget):
    """Downloads only when the user presses Download; runs as a task on the app's asyncio (qasync) loop."""

    downloaded = Signal(str, str)  # repo id, snapshot folder
    failed = Signal(str)

    def __init__(self, downloader: Downloader, parent: QWidget | None = None, cache_dir: Path | None = None) -> None:
        super().__init__(parent)
        self._downloader = downloader
        self.cache_dir = cache_dir
        self.task: asyncio.Task[Path | None] | None = None
        self._cancel = threading.Event()
        self._paused = False
        self.repo_edit = QLineEdit(DEFAULT_REPO)
        self.repo_edit.setAccessibleName("Hugging Face repository id")
        self.repo_edit.setToolTip("A PixArt-Σ diffusers pipeline on the Hugging Face Hub, as owner/name")
        self.download_button = QPushButton(icon("download"), "Download")
        self.download_button.setProperty("role", "primary")
        self.download_button.setToolTip("Download this model (needs internet; several GB)")
        self.download_button.clicked.connect(self.start)
        self.pause_button = QPushButton(icon("pause"), "Pause")
        self.pause_button.setToolTip("Stop for now; Download resumes where it stopped")
        self.pause_button.clicked.connect(self.pause)
        self.cancel_button = QPushButton(icon("stop"), "Cancel")
        self.cancel_button.setToolTip("Stop the download")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setAccessibleName("Download progress")
        self.status = QLabel("Nothing is downloaded unless you ask. Models go to the Hugging Face cache.")
        self.status.setProperty("role", "hint")
        self.status.setWordWrap(True)
        self.status.setMinimumHeight(2 * self.status.fontMetrics().lineSpacing())  # a longer message moves nothing
        row = QHBoxLayout()
        row.addWidget(self.repo_edit, 1)
        row.addWidget(self.download_button)
        row.addWidget(self.pause_button)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status)
        self._set_running(False)
        app = QCoreApplication.instance()
        if app is not None:  # quitting stops a download at its next chunk instead of waiting for all of it
            app.aboutToQuit.connect(self.cancel)

    def start(self) -> None:
        """Start (or resume) downloading the repo in the box."""
        repo = self.repo_edit.text().strip()
        if "/" not in repo:
            self._fail(f"{repo!r} is not a repository id; use owner/name, e.g. {DEFAULT_REPO}")
            return
        if not self.confirm(repo):
            return
        self._cancel = threading.Event()
        self._paused = False
        self._set_running(True)
        self.task = start_task(self._run(repo))

    def confirm(self, repo: str) -> bool:
        """Ask before touching the network, as the README promises (tests replace this)."""
        cache = self.cache_dir or "the Hugging Face cache"
        answer = QMessageBox.question(
            self,
            "Download a model",
            f"Download {repo} from the Hugging Face Hub?\n\nThis needs an internet connection and several GB "
            f"of disk space; the files go to {cache}. You can pause and resume.",
        )
        return answer == QMessageBox.StandardButton.Yes

    def pause(self) -> None:
        """Stop, keeping the partial files so the next Download resumes."""
        self._paused = True
        self._cancel.set()

    def cancel(self) -> None:
        """Stop the download."""
        self._cancel.set()

    async def _run(self, repo: str) -> Path | None:
        try:
            folder = await self._downloader(repo, self._show, self._cancel, self.cache_dir)
        except DownloadCancelledError:
            self._set_running(False)
            self.status.setText("Paused — press Download to resume." if self._paused else "Download cancelled.")
            return None
        except DownloadError as error:
            self._set_running(False)
            self._fail(str(error))
            return None
        except Exception as error:  # anything unexpected still ends in a message, not a silent task
            log.exception("download failed")
            self._set_running(False)
            self._fail(f"Downloading {repo} failed: {error}")
            return None
        self._set_running(False)
        self.status.setText(f"{repo} downloaded to {folder}")
        self.downloaded.emit(repo, str(folder))
        return folder

    def _show(self, progress: DownloadProgress) -> None:
        self.progress_bar.setValue(round(progress.fraction * 1000))
        if progress.total_bytes:
            amounts = f"{format_bytes(progress.done_bytes)} of {format_bytes(progress.total_bytes)}"
            self.status.setText(f"{progress.message} {amounts}")
        else:
            self.status.setText(progress.message)

    def _fail(self, message: str) -> None:
        self.status.setText(message)
        self.status.setProperty("level", "danger")
        self.status.style().polish(self.status)
        self.failed.emit(message)

    def _set_running(self, running: bool) -> None:
        self.download_button.setEnabled(not running)
        self.repo_edit.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.cancel_button.setEnabled(running)
        if running:
            self.status.setProperty("level", "ok")
            self.status.style().polish(self.status)

"""Unfinished jobs across restarts: saved whenever the queue changes, offered paused at the next start."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from app.core.errors import StoreError
from app.core.request import GenerationRequest
from app.engine.controller import EngineController
from app.store.pending_jobs import PendingJobsFile
from app.ui.shell.banner import Banner, BannerArea

log = logging.getLogger(__name__)


class SavedQueue(QObject):
    """Mirrors the running and waiting jobs into a file; jobs restored from it wait for Resume or Discard."""

    save_failed = Signal(str)

    def __init__(self, controller: EngineController, file: PendingJobsFile, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._controller, self._file = controller, file
        self._failing = False
        self.restored: list[GenerationRequest] = file.load()  # held, not run, until the user decides
        controller.queue_changed.connect(self._save)
        controller.job_started.connect(self._save)
        for signal in (controller.job_finished, controller.job_cancelled, controller.job_failed):
            signal.connect(self._save)

    def unfinished(self) -> list[GenerationRequest]:
        """The running job, then the waiting ones (restored jobs not resumed are not in flight)."""
        running = self._controller.running_job
        return [job.request for job in ([running] if running else []) + self._controller.queued_jobs]

    def offer(self, banners: BannerArea) -> Banner | None:
        """Show the restored jobs under a banner, Resume or Discard; None when there are none."""
        if not self.restored:
            return None
        title, message = describe_restored(self.restored)

        def decide(resume: bool) -> None:
            if resume:
                self.resume()
            else:
                self.discard()
            banner.dismiss()

        actions = (("Resume", lambda: decide(True)), ("Discard", lambda: decide(False)))
        banner = Banner("info", title, message, actions=actions)
        return banners.show_banner(banner)

    def resume(self) -> list[int]:
        """Queue the restored jobs, in their order; returns their job ids."""
        restored, self.restored = self.restored, []
        job_ids = [self._controller.submit(request) for request in restored]
        self._save()
        return job_ids

    def discard(self) -> None:
        """Forget the restored jobs."""
        self.restored = []
        self._save()

    def _save(self, *_signal_args: object) -> None:
        try:
            self._file.save([*self.restored, *self.unfinished()])
            self._failing = False
        except StoreError as error:
            log.warning("cannot save the unfinished jobs: %s", error)
            if not self._failing:
                self._failing = True
                self.save_failed.emit(f"Cannot save the job queue: {error}")


def describe_restored(requests: list[GenerationRequest]) -> tuple[str, str]:
    """The banner's title and message for jobs brought back from the last session."""
    count = len(requests)
    title = f"{count} unfinished job{'s' if count != 1 else ''} from the last session"
    first = requests[0].prompt.strip() or "(no prompt)"
    first = first if len(first) <= 60 else first[:57] + "…"
    more = f" and {count - 1} more" if count > 1 else ""
    return title, f"“{first}”{more}. Resume runs them now; Discard forgets them."


def confirm_quit(parent: QWidget, running: int, waiting: int) -> bool:
    """Ask before quitting with jobs in flight; True to quit."""
    parts = [f"{running} job is being generated"] if running else []
    if waiting:
        parts.append(f"{waiting} job{'s are' if waiting != 1 else ' is'} waiting")
    box = QMessageBox(QMessageBox.Icon.Question, "Quit PixArt Studio?", f"{' and '.join(parts)}.", parent=parent)
    box.setObjectName("quitQuestion")
    box.setInformativeText(
        "Quitting stops them. They are kept and offered again, paused, the next time you start the app "
        "(a job that was running starts over)."
    )
    quit_button = box.addButton("Quit", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(quit_button)
    box.exec()
    return box.clickedButton() is quit_button

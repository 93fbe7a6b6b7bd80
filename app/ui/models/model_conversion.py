"""Convert an original .pth/.safetensors checkpoint by running `pixart-studio convert` in a child process.

A separate process keeps torch out of the GUI process and lets the user cancel at any moment.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, Signal

_PROGRESS_LINE = re.compile(r"(\d+)%\s+[\d.]+s\s+(.*)$")
_RESOLUTION_IN_NAME = re.compile(r"(?<!\d)(256|512|1024|2048|4096)(?!\d)")


def convert_command(src: Path, dest: Path, resolution: int | None) -> tuple[str, list[str]]:
    """Program and arguments of the convert command, from a source checkout or a frozen bundle."""
    arguments = ["convert", str(src), str(dest)]
    if resolution:
        arguments += ["--resolution", str(resolution)]
    if getattr(sys, "frozen", False):
        return sys.executable, arguments
    return sys.executable, ["-m", "app", *arguments]


def resolution_from_name(path: Path) -> int | None:
    """The training resolution a checkpoint's name states (…-1024-MS.pth → 1024), or None."""
    match = _RESOLUTION_IN_NAME.search(path.name)
    return int(match.group(1)) if match else None


class ModelConversion(QObject):
    """One conversion: progress(fraction, stage) while it runs, then finished(dest) or failed(message, output)."""

    progress = Signal(float, str)
    finished = Signal(str)
    failed = Signal(str, str)

    def __init__(self, src: Path, dest: Path, resolution: int | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.src, self.dest, self.resolution = src, dest, resolution
        self._output: list[str] = []
        self._cancelled = False
        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        self.process.readyReadStandardOutput.connect(self._on_output)
        self.process.finished.connect(self._on_finished)
        self.process.errorOccurred.connect(self._on_error)

    def start(self, program: str | None = None, arguments: list[str] | None = None) -> None:
        """Start the child process (tests may pass another program)."""
        default_program, default_arguments = convert_command(self.src, self.dest, self.resolution)
        self.progress.emit(0.0, f"Starting conversion of {self.src.name}…")
        self.process.start(program or default_program, arguments if arguments is not None else default_arguments)

    def cancel(self) -> None:
        """Stop the conversion; the half-written folder is the converter's to clean up."""
        self._cancelled = True
        self.process.kill()

    @property
    def output(self) -> str:
        """Everything the converter printed."""
        return "".join(self._output)

    def _on_output(self) -> None:
        text = bytes(self.process.readAllStandardOutput().data()).decode("utf-8", errors="replace")
        self._output.append(text)
        for line in text.replace("\r", "\n").splitlines():
            match = _PROGRESS_LINE.search(line)
            if match:
                self.progress.emit(int(match.group(1)) / 100, match.group(2).strip())

    def _on_finished(self, exit_code: int, status: QProcess.ExitStatus) -> None:
        if self._cancelled:
            self.failed.emit("Conversion cancelled.", self.output)
        elif status == QProcess.ExitStatus.NormalExit and exit_code == 0:
            self.progress.emit(1.0, "Done")
            self.finished.emit(str(self.dest))
        else:
            last = next((line for line in reversed(self.output.splitlines()) if line.strip()), "no output")
            self.failed.emit(f"Converting {self.src.name} failed: {last}", self.output)

    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.failed.emit(f"Could not start the converter ({self.process.program()}).", self.output)

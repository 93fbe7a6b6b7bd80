"""Model manager: listing and choosing models, checkpoint conversion in a child process, Hub downloads."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QGroupBox, QInputDialog, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from app.application import Studio
from app.core.downloads import DownloadCancelledError, DownloadError, DownloadProgress
from app.core.model_info import ModelInfo, ModelSource
from app.ui.models import model_conversion as model_conversion_module
from app.ui.models import model_manager as model_manager_module
from app.ui.models.download_panel import DownloadPanel
from app.ui.models.model_conversion import ModelConversion, resolution_from_name
from app.ui.models.model_manager import ModelManager


def _info(name: str, path: Path, source: str, native: int = 1024, trained: bool = False) -> ModelInfo:
    return ModelInfo(name, path, native, source == "demo", trained, None, 2_400_000_000, 28, ModelSource(source))


class _Controller:
    """The two things the manager asks of the engine controller."""

    def __init__(self, models: list[ModelInfo]) -> None:
        self.model = "demo"
        self._models = models

    def list_models(self) -> list[ModelInfo]:
        return self._models

    async def download_model(self, *_args: Any) -> Path:
        raise AssertionError("these tests do not download")


def test_manager_lists_models_with_their_facts_and_selects_one(qtbot: QtBot, tmp_path: Path) -> None:
    """Each model shows its kind, native size, size on disk and KV weights; choosing one emits its id."""
    pipeline = tmp_path / "sigma"
    pipeline.mkdir()
    (pipeline / "model_index.json").write_text("{}")
    controller = _Controller(
        [
            _info("demo", tmp_path / "demo", "demo", native=256),
            _info("PixArt-alpha/PixArt-Sigma-XL-2-1024-MS", tmp_path / "hf", "hf-cache", trained=False),
            _info("sigma", pipeline, "folder", native=2048, trained=True),
        ]
    )
    manager = ModelManager(controller, tmp_path / "models")
    qtbot.addWidget(manager)
    rows = [[manager.table.item(r, c).text() for c in range(5)] for r in range(3)]
    assert rows[0] == ["● demo", "Demo", "256 px", "2.4 GB", "—"]
    assert rows[2][1:] == ["Local folder", "2048 px", "2.4 GB", "trained"]
    manager.table.selectRow(1)
    with qtbot.waitSignal(manager.model_chosen) as chosen:
        manager.use_button.click()
    assert chosen.args == ["PixArt-alpha/PixArt-Sigma-XL-2-1024-MS", ""]


def test_a_lone_transformer_runs_inside_the_chosen_base_pipeline(qtbot: QtBot, tmp_path: Path) -> None:
    """A converted transformer folder is selected as (base pipeline, transformer)."""
    controller = _Controller(
        [
            _info("demo", tmp_path / "demo", "demo"),
            _info("my-finetune", tmp_path / "models" / "my-finetune", "folder"),
        ]
    )
    manager = ModelManager(controller, tmp_path / "models")
    qtbot.addWidget(manager)
    manager.table.selectRow(1)
    with qtbot.waitSignal(manager.model_chosen) as chosen:
        manager.use_selected()
    assert chosen.args == ["demo", str(tmp_path / "models" / "my-finetune")]


def test_conversion_reports_progress_and_success(qtbot: QtBot, tmp_path: Path) -> None:
    """The converter's progress lines move the bar; exit 0 reports the new folder."""
    script = "import sys; print('[############            ]  50%    0.1s  checking weights', file=sys.stderr)"
    conversion = ModelConversion(tmp_path / "PixArt-Sigma-XL-2-2K-MS.pth", tmp_path / "out", 2048)
    seen: list[tuple[float, str]] = []
    conversion.progress.connect(lambda fraction, stage: seen.append((fraction, stage)))
    with qtbot.waitSignal(conversion.finished, timeout=20000) as finished:
        conversion.start(sys.executable, ["-c", script])
    assert (0.5, "checking weights") in seen and finished.args == [str(tmp_path / "out")]


def test_conversion_failure_names_the_reason(qtbot: QtBot, tmp_path: Path) -> None:
    """A converter that exits with an error is reported with its last line."""
    message = "pixart-studio convert: error: x.pth: no such checkpoint file"
    script = f"import sys; print({message!r}, file=sys.stderr); sys.exit(2)"
    conversion = ModelConversion(tmp_path / "x.pth", tmp_path / "out", None)
    with qtbot.waitSignal(conversion.failed, timeout=20000) as failed:
        conversion.start(sys.executable, ["-c", script])
    assert "no such checkpoint file" in failed.args[0]


def test_the_convert_command_runs_the_cli_module() -> None:
    """Conversion runs `python -m app convert SRC DEST --resolution N`, keeping torch out of the GUI."""
    conversion = ModelConversion(Path("a.pth"), Path("b"), 1024)
    program, arguments = __import__("app.ui.models.model_conversion", fromlist=["x"]).convert_command(
        conversion.src, conversion.dest, 1024
    )
    assert program == sys.executable and arguments == ["-m", "app", "convert", "a.pth", "b", "--resolution", "1024"]
    assert resolution_from_name(Path("PixArt-Sigma-XL-2-1024-MS.pth")) == 1024


class _FakeDownloader:
    """Reports progress in three steps on the asyncio loop, then finishes, fails or waits for the cancel."""

    def __init__(self, tmp_path: Path, outcome: str = "ok") -> None:
        self.folder, self.outcome, self.calls = tmp_path / "snapshot", outcome, []

    async def __call__(self, repo, on_progress, cancel, cache_dir) -> Path:
        self.calls.append((repo, cache_dir))
        for done in (0, 400, 800):
            on_progress(DownloadProgress(done, 1000, f"Downloading {repo}…"))
            await asyncio.sleep(0.01)
        if self.outcome == "fail":
            raise DownloadError(f"Cannot reach huggingface.co to download {repo}.")
        while self.outcome == "hang":
            if cancel.is_set():
                raise DownloadCancelledError("download cancelled")
            await asyncio.sleep(0.01)
        return self.folder


def test_download_panel_runs_the_download_on_the_asyncio_loop(qtbot: QtBot, tmp_path: Path) -> None:
    """Download starts a task on the app's loop; progress reaches the bar and the end emits the folder."""
    downloader = _FakeDownloader(tmp_path)
    panel = DownloadPanel(downloader, cache_dir=tmp_path)
    panel.confirm = lambda _repo: True  # the user says yes to the question before any network use
    qtbot.addWidget(panel)
    panel.repo_edit.setText("owner/model")
    seen: list[int] = []
    panel.progress_bar.valueChanged.connect(seen.append)
    with qtbot.waitSignal(panel.downloaded, timeout=5000) as finished:
        panel.download_button.click()
        assert panel.task is not None and not panel.download_button.isEnabled()
    assert finished.args == ["owner/model", str(downloader.folder)]
    assert downloader.calls == [("owner/model", tmp_path)] and 400 in seen
    assert panel.download_button.isEnabled() and "downloaded to" in panel.status.text()


def test_download_panel_pauses_and_shows_failures(qtbot: QtBot, tmp_path: Path) -> None:
    """Pause stops the task with a resume hint; a failed download shows its message."""
    panel = DownloadPanel(_FakeDownloader(tmp_path, "hang"))
    panel.confirm = lambda _repo: True
    qtbot.addWidget(panel)
    panel.download_button.click()
    qtbot.waitUntil(lambda: panel.progress_bar.value() == 800, timeout=5000)
    panel.pause_button.click()
    qtbot.waitUntil(lambda: panel.task is not None and panel.task.done(), timeout=5000)
    assert panel.status.text() == "Paused — press Download to resume." and panel.download_button.isEnabled()
    failing = DownloadPanel(_FakeDownloader(tmp_path, "fail"))
    failing.confirm = lambda _repo: True
    qtbot.addWidget(failing)
    with qtbot.waitSignal(failing.failed, timeout=5000) as failed:
        failing.download_button.click()
    assert "Cannot reach huggingface.co" in failed.args[0] and failing.status.property("level") == "danger"


def test_download_works_in_a_window_built_by_build_studio(qtbot: QtBot, studio: Studio) -> None:
    """Models → Download in the real window runs the real download coroutine (offline here: it says so)."""
    dialog = studio.window.open_model_manager()
    qtbot.addWidget(dialog)
    dialog.download.confirm = lambda _repo: True
    with qtbot.waitSignal(dialog.download.failed, timeout=10000) as failed:
        dialog.download.download_button.click()
    assert "offline" in failed.args[0] and dialog.download.download_button.isEnabled()


def _manager(qtbot: QtBot, tmp_path: Path) -> ModelManager:
    manager = ModelManager(_Controller([_info("demo", tmp_path / "demo", "demo", native=256)]), tmp_path / "models")
    qtbot.addWidget(manager)
    manager.show()
    return manager


@pytest.mark.parametrize(("name", "preset"), [("my-finetune.safetensors", "1024"), ("Sigma-XL-2-2048-MS.pth", "2048")])
def test_add_checkpoint_asks_the_resolution_in_the_dialog(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, preset: str
) -> None:
    """Add checkpoint asks the training resolution (preset from the name when it has one), never for a CLI flag."""
    manager = _manager(qtbot, tmp_path)
    asked: list[tuple[str, list[str], int]] = []

    def get_item(_parent: Any, _title: str, label: str, items: Any, current: int, _editable: bool) -> tuple[str, bool]:
        asked.append((label, list(items), current))
        return "512", True

    started: list[tuple[Path, int | None]] = []
    monkeypatch.setattr(QInputDialog, "getItem", get_item)
    monkeypatch.setattr(
        model_manager_module.QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(tmp_path / name), "")
    )
    monkeypatch.setattr(manager, "convert_checkpoint", lambda src, resolution: started.append((src, resolution)))
    next(b for b in manager.findChildren(QPushButton) if b.text() == "Add checkpoint…").click()
    label, items, current = asked[0]
    assert items == ["256", "512", "1024", "2048"] and items[current] == preset
    assert "--resolution" not in label and name in label
    assert started == [(tmp_path / name, 512)]


def test_conversion_errors_are_shown_as_errors(qtbot: QtBot, tmp_path: Path) -> None:
    """A failed conversion's message is red (level danger); a finished one is not."""
    manager = _manager(qtbot, tmp_path)
    manager._on_conversion_failed("Converting x.pth failed: not a PixArt checkpoint", "")
    assert manager.task_label.property("level") == "danger"
    manager._on_conversion_finished(str(tmp_path / "x"))
    assert manager.task_label.property("level") != "danger"


def test_add_folder_refuses_an_empty_folder(qtbot: QtBot, tmp_path: Path) -> None:
    """An empty folder is refused with the CLI's message, in red, and nothing is linked."""
    manager = _manager(qtbot, tmp_path)
    empty = tmp_path / "emptyfolder"
    empty.mkdir()
    manager.add_folder(empty)
    assert "is not a model folder (it has no model_index.json or config.json)" in manager.task_label.text()
    assert manager.task_label.property("level") == "danger"
    assert not (tmp_path / "models" / "emptyfolder").exists()


def test_download_asks_before_touching_the_network(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Download first asks; answering No starts nothing."""
    panel = DownloadPanel(_FakeDownloader(tmp_path, "hang"), cache_dir=tmp_path)
    qtbot.addWidget(panel)
    questions: list[str] = []

    def question(_parent: Any, _title: str, text: str, *_: Any) -> QMessageBox.StandardButton:
        questions.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", question)
    panel.download_button.click()
    assert questions and "internet connection" in questions[0] and panel.task is None


def test_the_conversion_rows_take_no_room_when_idle_and_move_no_button_when_they_appear(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Idle, no blank row sits under the buttons; a conversion's bar, Cancel and long message then appear without
    moving the buttons or the download box, and go again when it is cancelled."""
    stage = "checking the weights of a checkpoint with a rather long name, so that its line wraps in the dialog " * 2
    script = f"import time; print('40% 0.1s {stage}', flush=True); time.sleep(60)"
    monkeypatch.setattr(model_conversion_module, "convert_command", lambda *_: (sys.executable, ["-c", script]))
    manager = _manager(qtbot, tmp_path)
    qtbot.waitExposed(manager)
    add_checkpoint = next(b for b in manager.findChildren(QPushButton) if b.text() == "Add checkpoint…")
    box = manager.findChild(QGroupBox)
    fixed = (add_checkpoint, manager.use_button, box)

    def places() -> list[QPoint]:
        return [widget.mapTo(manager, QPoint(0, 0)) for widget in fixed]

    gap = box.mapTo(manager, QPoint(0, 0)).y() - add_checkpoint.mapTo(manager, QPoint(0, add_checkpoint.height())).y()
    assert gap < manager.task_bar.sizeHint().height()
    before = places()
    conversion = manager.convert_checkpoint(tmp_path / "x.pth", 1024)
    qtbot.waitUntil(lambda: manager.task_label.text() == f"Converting: {stage.strip()}", timeout=20000)
    qtbot.wait(10)
    assert manager.task_bar.isVisible() and manager.task_cancel.isVisible()
    assert places() == before
    with qtbot.waitSignal(conversion.failed, timeout=20000):
        manager.task_cancel.click()
    qtbot.wait(10)
    assert not manager.task_bar.isVisible() and manager.task_label.text() == "Conversion cancelled."
    assert places() == before

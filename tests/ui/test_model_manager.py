"""Model manager: listing and choosing models, checkpoint conversion in a child process, Hub downloads."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication, QGroupBox, QInputDialog, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from app.model.catalog import ModelInfo
from app.ui.models import model_manager as model_manager_module
from app.ui.models.download_panel import DownloadPanel
from app.ui.models.hub_download import (
    DownloadCancelledError,
    DownloadError,
    DownloadProgress,
    describe_hub_error,
    download_model,
)
from app.ui.models.model_conversion import ModelConversion, resolution_from_name
from app.ui.models.model_manager import ModelManager


def _info(name: str, path: Path, source: str, native: int = 1024, trained: bool = False) -> ModelInfo:
    return ModelInfo(name, path, native, source == "demo", trained, None, 2_400_000_000, 28, source)


class _Controller:
    """The two things the manager asks of the engine controller."""

    def __init__(self, models: list[ModelInfo]) -> None:
        self.model = "demo"
        self._models = models

    def list_models(self) -> list[ModelInfo]:
        return self._models


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


def _plan(size: int) -> list[Any]:
    return [SimpleNamespace(file_size=size, will_download=True), SimpleNamespace(file_size=7, will_download=False)]


def test_download_fails_cleanly_when_offline(tmp_path: Path) -> None:
    """With HF_HUB_OFFLINE set (as in every test), a download stops at once with a message saying so."""
    with pytest.raises(DownloadError, match="offline"):
        asyncio.run(
            download_model(
                "PixArt-alpha/PixArt-Sigma-XL-2-1024-MS", lambda _p: None, threading.Event(), cache_dir=tmp_path
            )
        )


def test_download_checks_free_disk_space_first(tmp_path: Path) -> None:
    """A download bigger than the free space is refused before any byte is fetched."""
    calls: list[dict] = []

    def snapshot(repo: str, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return _plan(50_000_000_000)

    free = SimpleNamespace(free=20_000_000_000)
    with pytest.raises(DownloadError, match=r"needs 50\.0 GB but only 20\.0 GB is free"):
        asyncio.run(download_model("a/b", lambda _p: None, threading.Event(), tmp_path, snapshot, lambda _p: free))
    assert [c.get("dry_run") for c in calls] == [True]


def test_download_reports_byte_progress_and_can_be_cancelled(tmp_path: Path) -> None:
    """Bytes reported by the download's progress bar reach the UI; cancelling stops it."""
    cancel = threading.Event()
    seen: list[DownloadProgress] = []

    def snapshot(repo: str, dry_run: bool = False, tqdm_class: Any = None, **kwargs: Any) -> Any:
        if dry_run:
            return _plan(1000)
        bar = tqdm_class(total=1000, unit="B")
        for _ in range(1000):
            bar.update(10)
            threading.Event().wait(0.01)
        return str(tmp_path)

    def on_progress(progress: DownloadProgress) -> None:
        seen.append(progress)
        if progress.done_bytes >= 200:
            cancel.set()

    plenty = SimpleNamespace(free=10**13)
    with pytest.raises(DownloadCancelledError):
        asyncio.run(download_model("a/b", on_progress, cancel, tmp_path, snapshot, lambda _p: plenty))
    assert any(0 < p.done_bytes < 1000 and p.total_bytes == 1000 for p in seen)


def test_download_panel_runs_on_the_qt_loop_and_shows_offline_failure(qtbot: QtBot, tmp_path: Path) -> None:
    """Pressing Download starts an asyncio task on the qasync loop; offline it ends with a clear message."""
    panel = DownloadPanel(cache_dir=tmp_path)
    qtbot.addWidget(panel)
    loop = qasync.QEventLoop(QApplication.instance())

    panel.confirm = lambda _repo: True

    async def press_download() -> None:
        panel.download_button.click()
        assert panel.task is not None and not panel.download_button.isEnabled()
        await panel.task

    try:
        loop.run_until_complete(press_download())
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    assert "offline" in panel.status.text() and panel.download_button.isEnabled()


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
    panel = DownloadPanel(cache_dir=tmp_path)
    qtbot.addWidget(panel)
    questions: list[str] = []

    def question(_parent: Any, _title: str, text: str, *_: Any) -> QMessageBox.StandardButton:
        questions.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", question)
    panel.download_button.click()
    assert questions and "internet connection" in questions[0] and panel.task is None


def test_a_network_failure_says_check_the_connection_once() -> None:
    """huggingface_hub's own advice is not repeated after ours."""
    error = ConnectionError("Connection failed. Please check your internet connection and try again.")
    message = describe_hub_error(error, "PixArt-alpha/PixArt-Sigma-XL-2-1024-MS")
    assert message.lower().count("internet connection") == 1


def test_the_download_box_stays_put_while_a_conversion_runs(qtbot: QtBot, tmp_path: Path) -> None:
    """The conversion's progress bar and a long message appear without moving the download box."""
    manager = _manager(qtbot, tmp_path)
    box = manager.findChild(QGroupBox)
    qtbot.wait(10)
    before = box.mapTo(manager, QPoint(0, 0))
    manager.task_bar.setVisible(True)
    manager.task_cancel.setVisible(True)
    manager._tell("Converting: checking the weights of a checkpoint with a rather long name, so it wraps")
    qtbot.wait(10)
    assert box.mapTo(manager, QPoint(0, 0)) == before

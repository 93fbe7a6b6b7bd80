"""The window on a server started by the test: generate, cancel, a lost server, the model list, Settings."""

from __future__ import annotations

import json
from collections.abc import Iterator

import keyring
import pytest
from PIL import Image
from pytestqt.qtbot import QtBot

from app.application import Studio
from app.core.paths import AppPaths
from app.remote.target import KEYRING_SERVICE, save_token
from app.ui.settings.preferences import Preferences, open_settings
from app.ui.settings.settings_dialog import SettingsDialog
from tests.memory_keyring import MemoryKeyring
from tests.server.conftest import TOKEN, LiveServer, free_port, start_server
from tests.ui.conftest import qtbot_left

JOB_TIMEOUT_MS = 60_000


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Tokens go to memory, not to the system keyring."""
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


@pytest.fixture
def server() -> Iterator[LiveServer]:
    """The demo model served on loopback for one test."""
    live = start_server(port=free_port())
    yield live
    live.stop()


def _remote_studio(make_studio, url: str) -> Studio:
    """A window whose saved settings render on `url` with the token in the keyring."""
    settings = open_settings(AppPaths.from_environment())
    settings.setValue("engine/location", "server")
    settings.setValue("engine/server_url", url)
    settings.sync()
    save_token(url, TOKEN)
    studio = make_studio()
    studio.state.steps = 2
    studio.controller.load_model()  # as the app does once its window is shown: here it connects to the server
    return studio


def test_the_window_generates_on_the_server_and_cancels(qtbot: QtBot, make_studio, server, memory_keyring):
    """Generate renders on the server, saves into the local gallery with where it was rendered; Esc cancels."""
    studio = _remote_studio(make_studio, server.url)
    window, controller = studio.window, studio.controller
    qtbot.waitUntil(lambda: controller.model_status.state.value == "ready", timeout=JOB_TIMEOUT_MS)
    assert controller.model_status.native_resolution == 128
    assert [info.name for info in controller.list_models()] == ["demo"]

    previews: list = []
    controller.progress.connect(lambda progress: previews.append(progress.preview))
    qtbot.keyClicks(window.prompt_editor.prompt_edit, "a red circle")
    qtbot.mouseClick(window.generation_panel.generate_button, qtbot_left())
    qtbot.waitUntil(lambda: studio.gallery.count() == 1, timeout=JOB_TIMEOUT_MS)
    window.flow.wait_for_saves()
    item = studio.gallery.page(0, 1)[0]
    with Image.open(item.path) as png:
        assert png.size == (128, 128)
        assert json.loads(png.info["pixart-studio"])["rendered_on"] == server.url
    assert any(preview is not None for preview in previews)

    studio.state.steps = 200
    with qtbot.waitSignal(controller.job_cancelled, timeout=JOB_TIMEOUT_MS):
        window.generate()
        qtbot.waitUntil(lambda: bool(previews) and controller.running_job is not None, timeout=JOB_TIMEOUT_MS)
        with qtbot.waitSignal(controller.progress, timeout=JOB_TIMEOUT_MS):
            pass
        window.cancel_or_leave_full_screen()
    assert studio.gallery.count() == 1
    qtbot.waitUntil(lambda: server.renderer.active_jobs() == 0, timeout=JOB_TIMEOUT_MS)


def test_a_lost_server_fails_the_job_keeps_the_queue_and_reconnects(qtbot: QtBot, make_studio, memory_keyring):
    """The server going away fails the running job with a banner, the queue waits, and it runs once it is back."""
    port = free_port()
    first = start_server(port=port)
    studio = _remote_studio(make_studio, first.url)
    window, controller = studio.window, studio.controller
    qtbot.waitUntil(lambda: controller.model_status.state.value == "ready", timeout=JOB_TIMEOUT_MS)
    studio.state.steps = 200
    qtbot.keyClicks(window.prompt_editor.prompt_edit, "a blue square")
    failures: list[str] = []
    controller.job_failed.connect(lambda _job, message, _details: failures.append(message))
    with qtbot.waitSignal(controller.progress, timeout=JOB_TIMEOUT_MS):
        window.generate()
    studio.state.steps = 2
    window.generate()  # waits in the queue behind the running job
    with qtbot.waitSignal(controller.connection_changed, timeout=JOB_TIMEOUT_MS) as lost:
        first.stop()
    assert lost.args[0] is False
    qtbot.waitUntil(lambda: bool(failures), timeout=JOB_TIMEOUT_MS)
    assert "Lost the connection" in failures[0] or "Cannot reach" in failures[0]
    assert any(b.title == "The server is not reachable" for b in window.banners.banners)
    assert len(controller.queued_jobs) == 1 and studio.gallery.count() == 0

    second = start_server(port=port)
    try:
        qtbot.waitUntil(lambda: studio.gallery.count() == 1, timeout=JOB_TIMEOUT_MS)
        assert not any(b.title == "The server is not reachable" for b in window.banners.banners)
    finally:
        second.stop()


def test_settings_keep_the_token_in_the_keyring_not_the_settings_file(qtbot: QtBot, server, memory_keyring):
    """Settings → Engine → Server: Test connection reports the server; OK saves the token in the keyring only."""
    paths = AppPaths.from_environment()
    preferences = Preferences(open_settings(paths), paths.gallery)
    dialog = SettingsDialog(preferences)
    qtbot.addWidget(dialog)
    section = dialog.server
    section.location.setCurrentIndex(1)
    section.url.setText(server.url)
    section.token.setText("a-wrong-token-0000")
    section.test_connection()
    qtbot.waitUntil(lambda: section.result.text().startswith("Not connected"), timeout=JOB_TIMEOUT_MS)
    assert "refused the token" in section.result.text()
    section.token.setText(TOKEN)
    section.test_connection()
    qtbot.waitUntil(lambda: section.result.text().startswith("Connected"), timeout=JOB_TIMEOUT_MS)
    assert "demo" in section.result.text()
    changes: list = []
    preferences.server_changed.connect(lambda *args: changes.append(args))
    dialog.accept()
    preferences.sync()
    assert changes == [(True, server.url)] and preferences.render_on_server
    assert memory_keyring.passwords[(KEYRING_SERVICE, server.url)] == TOKEN
    assert TOKEN not in (paths.config / "pixart-studio.ini").read_text()

"""Prompt editor: real T5 token counts with the cut-off tail, history recall, style presets, persistence."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.application import Studio
from app.core.styles import StylePreset, append_style
from app.store.preferences import PreferencesFile
from app.ui.create.prompt_history import PromptHistory
from app.ui.create.style_presets import StylePresets
from app.ui.settings.preferences import Preferences
from tests.spiece import train_spiece_model

_SENTENCES = [
    "a vintage travel poster of a lighthouse at dusk",
    "a minimal wallpaper with soft gradients and lots of space",
    "a studio portrait photograph with softbox lighting",
    "a watercolour illustration of a fox in the snow",
    "neon city at night, rain, reflections, cinematic",
] * 20


@pytest.fixture(scope="module")
def t5_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model folder whose tokenizer/ holds a tiny sentencepiece T5 tokenizer (made here, no download)."""
    folder = tmp_path_factory.mktemp("t5-model") / "tokenizer"
    folder.mkdir()
    spiece = train_spiece_model(_SENTENCES)
    (folder / "spiece.model").write_bytes(spiece)
    return folder.parent


def test_token_meter_counts_real_t5_tokens_and_names_the_cut_tail(
    qtbot: QtBot, studio: Studio, t5_model_dir: Path
) -> None:
    """The meter shows transformers' T5 token count; past 300 tokens it turns red and quotes the cut words."""
    from transformers import T5Tokenizer

    reference = T5Tokenizer.from_pretrained(t5_model_dir / "tokenizer", extra_ids=0, legacy=True)
    studio.window.use_model(str(t5_model_dir))
    meter = studio.window.prompt_editor.token_meter
    prompt = "a vintage travel poster of a lighthouse at dusk"
    studio.state.prompt = prompt
    meter.wait_for_count()
    expected = len(reference(prompt).input_ids)
    qtbot.waitUntil(lambda: meter.text() == f"{expected} / 300 tokens")
    long_prompt = " ".join(["neon city at night"] * 120) + " final golden words"
    studio.state.prompt = long_prompt
    meter.wait_for_count()
    total = len(reference(long_prompt.lower()).input_ids)
    assert total > 300
    qtbot.waitUntil(lambda: meter.text().startswith(f"{total} / 300 tokens — past the limit"))
    assert meter.property("level") == "danger"
    assert meter.toolTip().rstrip().endswith("final golden words")  # the whole cut tail, for reading


def test_history_remembers_prompts_newest_first(tmp_path: Path) -> None:
    """Generated prompts are recalled newest first, without duplicates, across restarts."""
    file = PreferencesFile(tmp_path / "preferences.json")
    history = PromptHistory(Preferences(file, tmp_path))
    for prompt in ("first", "second", "first"):
        history.add(prompt)
    assert PromptHistory(Preferences(file, tmp_path)).prompts == ["first", "second"]


def test_history_menu_recalls_a_prompt(qtbot: QtBot, studio: Studio) -> None:
    """Choosing a prompt in the History menu puts it back in the editor."""
    studio.window.history.add("an old favourite prompt")
    menu = studio.window.prompt_editor.history_button.menu()
    next(a for a in menu.actions() if a.text() == "an old favourite prompt").trigger()
    assert studio.window.prompt_editor.prompt_edit.toPlainText() == "an old favourite prompt"


def test_ctrl_z_undoes_choosing_a_history_entry(qtbot: QtBot, studio: Studio) -> None:
    """A prompt recalled from History replaces the typed one; Ctrl+Z in the editor brings the typed one back."""
    editor = studio.window.prompt_editor
    studio.window.history.add("an old favourite prompt")
    qtbot.keyClicks(editor.prompt_edit, "a prompt I was writing")
    next(a for a in editor.history_button.menu().actions() if a.text() == "an old favourite prompt").trigger()
    assert studio.state.prompt == "an old favourite prompt"
    qtbot.waitUntil(editor.prompt_edit.hasFocus)
    qtbot.keyClick(editor.prompt_edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert editor.prompt_edit.toPlainText() == "a prompt I was writing"
    assert studio.state.prompt == "a prompt I was writing"


def test_style_presets_append_and_are_saved(qtbot: QtBot, studio: Studio, tmp_path: Path) -> None:
    """A style adds its phrase once; edited presets are saved and read back."""
    studio.state.prompt = "a fox"
    menu = studio.window.prompt_editor.styles_button.menu()
    action = next(a for a in menu.actions() if a.text() == "Illustration: watercolour")
    action.trigger()
    action.trigger()
    assert studio.state.prompt == "a fox, watercolour illustration, loose brush strokes, paper texture"
    file = PreferencesFile(tmp_path / "preferences.json")
    StylePresets(Preferences(file, tmp_path)).set_presets([StylePreset("Mine", "my look"), StylePreset(" ", "x")])
    assert StylePresets(Preferences(file, tmp_path)).presets == [StylePreset("Mine", "my look")]
    assert append_style("", StylePreset("Mine", "my look")) == "my look"


def test_style_names_are_not_clipped_in_the_style_editor(qtbot: QtBot, studio: Studio) -> None:
    """Every style name fits the editor's list, with no sideways scrolling."""
    from app.ui.create.style_preset_dialog import StylePresetDialog

    dialog = StylePresetDialog(studio.window.prompt_editor._styles, studio.window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert not dialog.list.horizontalScrollBar().isVisible()
    widest = max(dialog.list.visualItemRect(dialog.list.item(i)).width() for i in range(dialog.list.count()))
    assert dialog.list.sizeHintForColumn(0) <= dialog.list.viewport().width() and widest > 0

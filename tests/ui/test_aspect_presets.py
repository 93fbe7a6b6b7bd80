"""Size controls: aspect buttons, exact presets, custom pixels and tiers change the final size and plan."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.application import Studio
from app.core.sizes import GenerationPath
from app.ui.create.aspect_presets import AspectPresets
from app.ui.create.state import GenerationSettings, SizeMode


def _presets(qtbot: QtBot) -> tuple[GenerationSettings, AspectPresets]:
    state = GenerationSettings()
    widget = AspectPresets(state)
    qtbot.addWidget(widget)
    widget.show()
    return state, widget


def _button(widget: AspectPresets, name: str):
    return next(b for b in widget.ratio_buttons if b.preset.name == name)


def test_aspect_buttons_change_the_final_size(qtbot: QtBot) -> None:
    """Clicking 16:9 then 9:16 gives landscape then portrait sizes from the model's bins."""
    state, widget = _presets(qtbot)
    assert (state.target_size().width, state.target_size().height) == (1024, 1024)
    qtbot.mouseClick(_button(widget, "16:9"), Qt.MouseButton.LeftButton)
    wide = state.target_size()
    assert wide.width > wide.height and abs(wide.width / wide.height - 16 / 9) < 0.1
    qtbot.mouseClick(_button(widget, "9:16"), Qt.MouseButton.LeftButton)
    tall = state.target_size()
    assert (tall.width, tall.height) == (wide.height, wide.width)
    assert _button(widget, "9:16").isChecked() and not _button(widget, "16:9").isChecked()


def test_tier_buttons_scale_the_size_and_4k_is_refined(qtbot: QtBot) -> None:
    """The 4K tier quadruples the sides and is made by refining; 2K is sampled directly."""
    state, widget = _presets(qtbot)
    labels = [b.text() for b in widget._tier_group.buttons()]
    assert labels == ["512", "1K", "2K", "4K"]
    widget._tier_group.buttons()[3].click()
    assert (state.target_size().width, state.target_size().height) == (4096, 4096)
    assert state.plan().path is GenerationPath.REFINE
    widget._tier_group.buttons()[2].click()
    assert state.plan().path is GenerationPath.DIRECT


def test_every_aspect_button_works_at_every_tier_of_the_128_px_demo(qtbot: QtBot) -> None:
    """On the demo model every tier button offered makes every aspect preset plannable, and a tier picked on a
    1024 model that the demo lacks falls back to native instead of leaving every aspect button broken."""
    state, widget = _presets(qtbot)
    widget._tier_group.buttons()[0].click()  # 512 on the 1024 model: half the native resolution
    state.native_resolution = 128
    assert [b.text() for b in widget._tier_group.buttons()] == ["128", "256", "512"]
    assert state.tier_scale == 1.0 and widget._tier_group.buttons()[0].isChecked()
    for tier_button in widget._tier_group.buttons():
        tier_button.click()
        for ratio_button in widget.ratio_buttons:
            ratio_button.click()
            size = state.target_size()
            assert (state.plan().target_width, state.plan().target_height) == (size.width, size.height)


def test_exact_print_preset_gives_exact_pixels_and_300_dpi(qtbot: QtBot) -> None:
    """Choosing A4 at 300 DPI asks for 2480×3508 pixels and writes 300 DPI into the request."""
    state, widget = _presets(qtbot)
    widget._mode_group.button(1).click()
    assert state.size_mode is SizeMode.EXACT
    widget.exact_combo.setCurrentIndex(widget.exact_combo.findData("A4 portrait 300 DPI"))
    request = state.build_request("demo")
    assert (request.width, request.height, request.dpi) == (2480, 3508, 300)


def test_exact_and_custom_sizes_start_at_auto_and_each_kind_of_size_keeps_its_tier(qtbot: QtBot) -> None:
    """A 1K tier left by the aspect buttons does not make the 4K wallpaper a 1K image enlarged: Wallpaper & print
    opens at Auto (the 4K tier covers it), and going back to the aspect buttons brings back their 2K."""
    state, widget = _presets(qtbot)
    widget._tier_group.buttons()[2].click()  # 2K
    widget._mode_group.button(1).click()
    widget.exact_combo.setCurrentIndex(widget.exact_combo.findData("4K UHD 3840×2160"))
    tiers_shown = widget._tier_group.buttons()
    assert tiers_shown[0].text() == "Auto" and tiers_shown[0].isChecked()
    plan = state.plan()
    assert (plan.target_width, plan.target_height) == (3840, 2160) and plan.tier.resolution == 4096
    widget._tier_group.buttons()[2].click()  # 1K, by choice: kept while exact and custom sizes are shown
    widget._mode_group.button(2).click()
    assert state.tier_scale == 1.0
    widget._mode_group.button(0).click()
    assert state.tier_scale == 2.0 and widget._tier_group.buttons()[2].isChecked()
    widget._mode_group.button(1).click()
    assert state.tier_scale == 1.0


def test_custom_size_is_used_as_typed(qtbot: QtBot) -> None:
    """Custom width and height go straight into the request."""
    state, widget = _presets(qtbot)
    widget._mode_group.button(2).click()
    widget.width_spin.setValue(1600)
    widget.height_spin.setValue(900)
    request = state.build_request("demo")
    assert (request.width, request.height) == (1600, 900)


def test_switching_to_custom_replaces_the_tier_buttons_at_once(qtbot: QtBot) -> None:
    """Custom adds "Auto" to the tiers; the old buttons leave the row at once, not when the event loop next runs."""
    state, widget = _presets(qtbot)
    state.size_mode = SizeMode.CUSTOM
    row = [widget._tier_row.itemAt(i).widget() for i in range(1, widget._tier_row.count())]  # after the label
    assert [button.text() for button in row] == ["Auto", "512", "1K", "2K", "4K"]


def test_16_9_button_gives_16_9_and_the_size_line_names_the_bin_and_the_crop(qtbot: QtBot, studio: Studio) -> None:
    """On the demo model 16:9 makes 160×90 (not the 160×96 bin), and the size line says both sizes."""
    panel = studio.window.side_panel
    studio.state.native_resolution = 128
    qtbot.mouseClick(_button(panel.aspect_presets, "16:9"), Qt.MouseButton.LeftButton)
    request = studio.state.build_request("demo")
    assert (request.width, request.height) == (160, 90)
    text = panel.size_summary.text()
    assert "160 × 90 px" in text and "(160×96)" in text and "cropped to 160×90" in text


def test_custom_sizes_out_of_range_stay_as_typed_and_the_size_line_gives_the_range(
    qtbot: QtBot, studio: Studio
) -> None:
    """Typing 99999 or 17 keeps that number and the size line says 64 to 8192, instead of silently changing it."""
    panel = studio.window.side_panel
    panel.aspect_presets._mode_group.button(2).click()
    spin = panel.aspect_presets.width_spin
    for typed in ("99999", "17"):
        spin.setFocus()
        spin.selectAll()
        qtbot.keyClicks(spin, typed)
        qtbot.keyClick(spin, Qt.Key.Key_Return)
        assert studio.state.custom_width == int(typed)
        assert f"width {typed} is out of range; use 64 to 8192 pixels" in panel.size_summary.text()

"""Line icons follow the theme: switching it re-tints icons already on screen, no restart needed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QApplication, QToolButton
from pytestqt.qtbot import QtBot

from app.ui.widgets.icons import icon
from app.ui.widgets.theme import DARK, LIGHT, Theme, apply_theme


def strokes_are(image, expected: str) -> bool:
    """Whether the icon's fully opaque pixels (its strokes, not anti-aliased edges) are all `expected`, ±3."""
    image = image.convertToFormat(image.Format.Format_ARGB32)
    target = QColor(expected)
    strokes = [QColor.fromRgba(image.pixel(x, y)) for y in range(image.height()) for x in range(image.width())]
    strokes = [c for c in strokes if c.alpha() == 255]
    near = [
        max(abs(c.red() - target.red()), abs(c.green() - target.green()), abs(c.blue() - target.blue())) <= 3
        for c in strokes
    ]
    return bool(strokes) and all(near)


def lightness_range(image) -> tuple[int, int]:
    """The darkest and the lightest pixel of a widget grab (HSL lightness, 0–255)."""
    values = [QColor(image.pixel(x, y)).lightness() for y in range(image.height()) for x in range(image.width())]
    return min(values), max(values)


@pytest.fixture
def dark_then_restored(qapp: QApplication) -> Iterator[QApplication]:
    """Start in the dark theme and leave it applied for the tests that follow."""
    apply_theme(qapp, Theme.DARK)
    yield qapp
    apply_theme(qapp, Theme.DARK)


def test_an_icon_made_in_the_dark_theme_paints_in_the_light_theme_colours_after_a_switch(dark_then_restored) -> None:
    """The same QIcon object: text colour of the dark theme, then of the light one; disabled uses 'muted'."""
    star = icon("star")
    assert strokes_are(star.pixmap(24, 24).toImage(), DARK.text)
    apply_theme(dark_then_restored, Theme.LIGHT)
    assert strokes_are(star.pixmap(24, 24).toImage(), LIGHT.text)
    assert strokes_are(star.pixmap(24, 24, QIcon.Mode.Disabled).toImage(), LIGHT.muted)


def test_an_explicit_colour_stays_whatever_the_theme(dark_then_restored) -> None:
    """A star tinted gold (a favourite) keeps its gold in both themes."""
    gold = icon("star-filled", "#f2c94c")
    apply_theme(dark_then_restored, Theme.LIGHT)
    assert strokes_are(gold.pixmap(24, 24).toImage(), "#f2c94c")


def test_a_button_on_screen_repaints_its_icon_in_the_new_theme(qtbot: QtBot, dark_then_restored) -> None:
    """Light strokes on a dark button, then dark strokes on a light one: the icon was repainted, not kept."""
    button = QToolButton()
    button.setIcon(icon("settings"))
    qtbot.addWidget(button)
    button.show()
    qtbot.waitExposed(button)
    assert lightness_range(button.grab().toImage())[1] > 180  # the dark theme's light strokes
    apply_theme(dark_then_restored, Theme.LIGHT)
    assert lightness_range(button.grab().toImage())[0] < 90  # the light theme's dark strokes (its border is ~210)


def test_a_missing_icon_names_the_file_it_expected() -> None:
    """A typo in an icon name fails at once with the path, not later as a blank button."""
    with pytest.raises(ValueError, match="no-such-icon"):
        icon("no-such-icon")

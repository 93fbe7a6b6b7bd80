"""Themes: a Fusion palette plus resources/styles/studio.qss filled with the theme's colours."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum
from string import Template

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from app.core.resources import resources_dir


class Theme(str, Enum):
    """The theme a user picks in Settings; dark is the default because images read best on it."""

    DARK = "dark"
    LIGHT = "light"
    SYSTEM = "system"


@dataclass(frozen=True)
class Colors:
    """The handful of colours the palette and the style sheet are made from."""

    window: str
    panel: str
    base: str
    raised: str
    text: str
    muted: str
    border: str
    accent: str
    accent_hover: str
    accent_text: str
    canvas: str
    danger: str
    warning: str
    success: str


DARK = Colors(
    window="#1b1c1f",
    panel="#222327",
    base="#18191b",
    raised="#2b2c31",
    text="#e8e8ec",
    muted="#9497a1",
    border="#34363c",
    accent="#7c6cff",
    accent_hover="#9184ff",
    accent_text="#ffffff",
    canvas="#111113",
    danger="#ff5d6c",
    warning="#f2b54d",
    success="#4cc38a",
)

LIGHT = Colors(
    window="#f1f1f4",
    panel="#fafafc",
    base="#ffffff",
    raised="#e7e7ec",
    text="#1c1d21",
    muted="#63666f",
    border="#d3d4da",
    accent="#5b4cf0",
    accent_hover="#6f61ff",
    accent_text="#ffffff",
    canvas="#dcdce1",
    danger="#d92d41",
    warning="#b8770b",
    success="#168a54",
)


def resolve(theme: Theme) -> Colors:
    """The colours of a theme; 'system' follows the desktop's light/dark setting."""
    if theme is Theme.SYSTEM:
        return LIGHT if QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Light else DARK
    return LIGHT if theme is Theme.LIGHT else DARK


def palette(colors: Colors) -> QPalette:
    """A QPalette for Fusion, so native dialogs and custom-painted widgets follow the theme too."""
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: colors.window,
        QPalette.ColorRole.WindowText: colors.text,
        QPalette.ColorRole.Base: colors.base,
        QPalette.ColorRole.AlternateBase: colors.panel,
        QPalette.ColorRole.ToolTipBase: colors.raised,
        QPalette.ColorRole.ToolTipText: colors.text,
        QPalette.ColorRole.PlaceholderText: colors.muted,
        QPalette.ColorRole.Text: colors.text,
        QPalette.ColorRole.Button: colors.raised,
        QPalette.ColorRole.ButtonText: colors.text,
        QPalette.ColorRole.BrightText: colors.danger,
        QPalette.ColorRole.Highlight: colors.accent,
        QPalette.ColorRole.HighlightedText: colors.accent_text,
        QPalette.ColorRole.Link: colors.accent_hover,
        QPalette.ColorRole.Mid: colors.border,
        QPalette.ColorRole.Dark: colors.canvas,
        QPalette.ColorRole.Light: colors.raised,
        QPalette.ColorRole.Midlight: colors.panel,
        QPalette.ColorRole.Shadow: "#000000",
    }
    for role, value in roles.items():
        pal.setColor(role, QColor(value))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(colors.muted))
    return pal


def style_sheet(colors: Colors) -> str:
    """resources/styles/studio.qss with $name placeholders replaced by the theme's colours."""
    text = (resources_dir() / "styles" / "studio.qss").read_text(encoding="utf-8")
    return Template(text).safe_substitute(asdict(colors))


def apply_theme(app: QApplication, theme: Theme) -> Colors:
    """Restyle the whole application in place; returns the colours used."""
    colors = resolve(theme)
    sheet = style_sheet(colors)
    if app.styleSheet() == sheet:
        return colors  # restyling every widget is slow; skip it when nothing changes
    app.setStyle("Fusion")
    app.setPalette(palette(colors))
    app.setStyleSheet(sheet)
    app.setProperty("studioColors", asdict(colors))
    return colors


def current_colors() -> Colors:
    """The colours of the theme last applied (dark before any is applied)."""
    app = QApplication.instance()
    stored = app.property("studioColors") if app is not None else None
    return Colors(**stored) if isinstance(stored, dict) else DARK

"""The Help menu's message boxes: where real PixArt-Σ weights come from, and About."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from app import __version__

REAL_WEIGHTS_HELP = (
    "For real posters and wallpapers use PixArt-Σ: open <b>Models</b> (Ctrl+M) and download "
    "<code>PixArt-alpha/PixArt-Sigma-XL-2-1024-MS</code> (several GB, most of it the T5 text encoder), or add a "
    "diffusers folder or an original <code>.pth</code>/<code>.safetensors</code> checkpoint you already have."
)


def show_weights_help(parent: QWidget) -> None:
    """Help → Getting real PixArt-Σ weights."""
    QMessageBox.information(parent, "Getting real PixArt-Σ weights", REAL_WEIGHTS_HELP)


def show_about(parent: QWidget) -> None:
    """Help → About PixArt Studio."""
    QMessageBox.about(
        parent,
        "About PixArt Studio",
        f"<b>PixArt Studio {__version__}</b><br>Posters and wallpapers up to 4K with PixArt-Σ, on your own "
        "machine, offline.",
    )

"""Number fields, sliders and choice lists take the mouse wheel only when focused, so scrolling a panel scrolls it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox, QSlider, QWidget

_GUARDED = (QAbstractSpinBox, QComboBox, QSlider)


def _scroll_area(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent


class _WheelGuard(QObject):
    """Hands an unfocused field's wheel event to the scroll area around it, as Krita and Blender do."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, QWidget) or watched.hasFocus():
            return False
        assert isinstance(event, QWheelEvent)
        area = _scroll_area(watched)
        if area is not None:
            # Forwarded rather than ignored: Qt propagates only spontaneous wheel events to parents.
            viewport = area.viewport()
            position = QPointF(viewport.mapFromGlobal(event.globalPosition().toPoint()))
            forwarded = QWheelEvent(
                position,
                event.globalPosition(),
                event.pixelDelta(),
                event.angleDelta(),
                event.buttons(),
                event.modifiers(),
                event.phase(),
                event.inverted(),
            )
            QApplication.sendEvent(viewport, forwarded)
        return True


def guard_wheel(root: QWidget) -> None:
    """Every number field, slider and choice list under `root` ignores the wheel until clicked or tabbed into."""
    guard = _WheelGuard(root)
    for kind in _GUARDED:
        for widget in root.findChildren(kind):
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the default WheelFocus would focus on a wheel
            widget.installEventFilter(guard)

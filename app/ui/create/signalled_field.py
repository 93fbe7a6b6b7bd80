"""A state object's property that announces each change on `<name>_changed` and on `changed`."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from enum import Enum
from typing import Any


def signalled_field(
    name: str,
    enums: Mapping[str, type[Enum]],
    also_emits: Callable[[Any], Any] | None = None,
    when: Collection[str] = (),
) -> property:
    """A property over `self._values[name]`: enum fields are coerced, and only a real change is announced.

    `also_emits(self)` gives one more signal to emit when `name` is in `when` (the size line's `size_changed`).
    """

    def getter(self: Any) -> Any:
        return self._values[name]

    def setter(self: Any, value: Any) -> None:
        if name in enums:
            value = enums[name](value)
        if self._values[name] == value:
            return
        self._values[name] = value
        getattr(self, f"{name}_changed").emit(value)
        if also_emits is not None and name in when:
            also_emits(self).emit()
        self.changed.emit()

    return property(getter, setter, doc=f"The {name.replace('_', ' ')} control's value.")

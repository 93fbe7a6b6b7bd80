"""A time budget split into sections taken in order, so a long early section cannot starve the later ones."""

from __future__ import annotations

import time
from collections.abc import Callable


class Budget:
    """Wall-clock seconds per section; the time a section leaves unused carries over to the next one opened.

    Wall time, not the run's clock: the budget is about how long the run holds the machine.
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._deadline: float | None = None
        self.section = ""
        self.share = 0.0
        self.carried = 0.0
        self.opened_at = 0.0

    def open(self, section: str, share: float) -> None:
        """Start `section` with `share` seconds plus whatever the previous section did not use."""
        now = self._clock()
        self.carried = max(0.0, self._deadline - now) if self._deadline is not None else 0.0
        self.section, self.share, self.opened_at = section, share, now
        self._deadline = now + share + self.carried

    def left(self) -> float:
        """Seconds left in the open section (negative once it is overspent)."""
        if self._deadline is None:
            raise RuntimeError("no budget section is open")
        return self._deadline - self._clock()

    def spent(self) -> float:
        """Seconds since the open section started."""
        return self._clock() - self.opened_at

    def fits(self, estimate: float) -> bool:
        """Whether work estimated at `estimate` seconds fits in what is left of the open section."""
        return estimate <= self.left()

    def refusal(self, estimate: float) -> str:
        """The reason a skipped piece of work gives, for the table."""
        return f"time budget: needs about {estimate:.0f} s, {max(0.0, self.left()):.0f} s left for {self.section}"

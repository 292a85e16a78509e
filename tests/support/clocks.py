"""A manual clock that also keeps the waits asked of it (for code whose waits are its output)."""

from __future__ import annotations

from datetime import UTC, datetime

from core.clock import ManualClock


class RecordingClock(ManualClock):
    """`ManualClock` (a wait moves time on at once) that lists every wait, in order."""

    def __init__(self, start: datetime | None = None) -> None:
        super().__init__(start or datetime(2020, 1, 6, tzinfo=UTC))
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        super().sleep(seconds)

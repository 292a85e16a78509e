"""The state manager backs off between update retries on its clock, not on the wall's."""

from __future__ import annotations

from typing import Any

from strategies.components.state_manager import InMemoryStateManager
from tests.support.clocks import RecordingClock


def test_a_retried_update_waits_on_the_injected_clock():
    clock = RecordingClock()
    manager = InMemoryStateManager(clock)
    manager.save("s", {"n": 0}, 0)
    beaten: list[bool] = []

    def increment(state: dict[str, Any]) -> dict[str, Any]:
        if not beaten:  # another writer gets in between our read and our write, once
            beaten.append(True)
            manager.save("s", {"n": 10}, manager.load("s").version)
        return {"n": state["n"] + 1}

    assert manager.update("s", increment) == ({"n": 11}, 3)
    [wait] = clock.waits
    assert 0 <= wait <= 0.001  # the first back-off: up to a millisecond of jitter


def test_an_update_without_conflict_does_not_wait():
    clock = RecordingClock()
    manager = InMemoryStateManager(clock)
    manager.update("s", lambda state: {"n": 1})
    assert clock.waits == []

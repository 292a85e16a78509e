"""Wait for a condition, not for a time: poll with a deadline, fail saying what was awaited."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    message: str | Callable[[], str],
    interval: float = 0.1,
) -> T:
    """Call `predicate` until it returns something truthy, and return that.

    After `timeout` seconds without it, fail with `message` (a callable is asked only then,
    so it can describe what was seen instead).
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            detail = message() if callable(message) else message
            raise AssertionError(f"not within {timeout:g} s: {detail}")
        time.sleep(interval)

"""Clocks. Everything time-dependent takes a `Clock`; nothing calls `datetime.now()`,
`time.sleep()` or `time.monotonic()` itself.

A clock tells the time (`now`), measures deadlines on a steady scale (`monotonic`, seconds
of the clock's own time) and waits (`sleep`, seconds of the clock's own time):

- `SystemClock`: wall-clock UTC (live trading); waits really.
- `ScaledClock`: simulated time running `speed` times faster than real time from a shared
  origin; every process built from the same settings agrees on "now" (demo). Waiting ten
  simulated seconds takes 10 / speed real seconds.
- `ManualClock`: moves only when told to (tests, backtests); `sleep` moves it forward at
  once, so code that waits runs instantly and deterministically.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


def ensure_utc(value: datetime) -> datetime:
    """Refuse naive datetimes; convert aware ones to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: times must be timezone-aware UTC")
    return value.astimezone(UTC)


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds of this clock's time on a scale that never goes back (for deadlines)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...


def _check_wait(seconds: float) -> None:
    if not seconds >= 0:  # also refuses NaN
        raise ValueError(f"cannot wait {seconds} seconds")


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        _check_wait(seconds)
        time.sleep(seconds)


class ScaledClock:
    """sim_now = origin + (real_now - real_start) * speed."""

    def __init__(self, origin: datetime, real_start: float, speed: float) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        self.origin = ensure_utc(origin)
        self.real_start = real_start
        self.speed = speed

    def now(self) -> datetime:
        elapsed = (time.time() - self.real_start) * self.speed
        return self.origin + timedelta(seconds=elapsed)

    def monotonic(self) -> float:
        return time.monotonic() * self.speed

    def sleep(self, seconds: float) -> None:
        _check_wait(seconds)
        time.sleep(seconds / self.speed)

    def real_seconds_for(self, simulated: timedelta) -> float:
        """How many real seconds pass while `simulated` time goes by."""
        return simulated.total_seconds() / self.speed


class ManualClock:
    def __init__(self, start: datetime) -> None:
        self._now = ensure_utc(start)
        self._start = self._now
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return (self._now - self._start).total_seconds()

    def sleep(self, seconds: float) -> None:
        """Advance by `seconds` at once: nothing really waits."""
        _check_wait(seconds)
        self.advance(timedelta(seconds=seconds))

    def set(self, value: datetime) -> None:
        value = ensure_utc(value)
        with self._lock:
            if value < self._now:
                raise ValueError(f"clock cannot go back from {self._now} to {value}")
            self._now = value

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError(f"clock cannot go back (advance by {delta})")
        with self._lock:
            self._now += delta
            return self._now


def clock_from_settings() -> Clock:
    """The clock every process of this deployment shares (scaled when configured)."""
    from core.settings import get_settings

    settings = get_settings()
    if settings.clock_origin is None:
        return SystemClock()
    origin = datetime.fromisoformat(settings.clock_origin)
    real_start = settings.clock_real_start if settings.clock_real_start is not None else time.time()
    return ScaledClock(origin, real_start, settings.clock_speed)

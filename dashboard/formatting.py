"""Jinja filters: money to the cent, rates as percentages, times in UTC, ages."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

DASH = "—"
CENT = Decimal("0.01")


def money(value: Decimal | None, signed: bool = False) -> str:
    if value is None:
        return DASH
    rounded = Decimal(value).quantize(CENT, rounding=ROUND_HALF_EVEN)
    if rounded == 0:
        rounded = abs(rounded)  # never "-0.00"
    return f"{rounded:+,.2f}" if signed else f"{rounded:,.2f}"


def price(value: Decimal | None) -> str:
    """A price with as many places as it needs (at most 6), never in exponent form."""
    if value is None:
        return DASH
    places = 2 if abs(value) >= 100 else 4 if abs(value) >= 1 else 6
    return f"{Decimal(value):,.{places}f}"


def qty(value: Decimal | None) -> str:
    if value is None:
        return DASH
    text = f"{Decimal(value).normalize():f}"
    return "0" if text in ("-0", "0") else text


def pct(value: Decimal | None, places: int = 2) -> str:
    """A fraction as a percentage: 0.1234 -> 12.34%."""
    if value is None:
        return DASH
    return f"{Decimal(value) * 100:.{places}f}%"


def when(value: datetime | None) -> str:
    return DASH if value is None else f"{value:%Y-%m-%d %H:%M:%S} UTC"


def clock(value: datetime | None) -> str:
    return DASH if value is None else f"{value:%m-%d %H:%M}"


def duration(value: timedelta | None) -> str:
    if value is None:
        return DASH
    seconds = int(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {seconds:02d}s"
    return f"{sign}{seconds}s"


def short(value: Any, length: int = 8) -> str:
    return str(value)[:length]


FILTERS = {
    "money": money,
    "price": price,
    "qty": qty,
    "pct": pct,
    "when": when,
    "clock": clock,
    "duration": duration,
    "short": short,
}

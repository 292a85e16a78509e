"""Range checks for every number and time that crosses the venue boundary.

A venue's answer is data from outside: before it becomes a port value, each number is checked
against what it can mean (a price is positive, a fee rate sits in a sane band, a filled size
cannot exceed the order, a funding interval lies between a minute and a day on a plausible
grid, a market time lies within a day of the clock's now) and against what the database can
hold (`Numeric(38, 18)`: at most 20 digits before the point). A violation is a
`MalformedResponseError` naming the venue, the method and the field; a missing time is never
replaced by "now".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from core.clock import Clock
from core.money import to_decimal
from exchanges.base import MalformedResponseError

# Numeric(38, 18): 20 digits before the point.
NUMERIC_LIMIT = Decimal(10) ** 20
# A maker may be paid a rebate; nobody is paid to take. One percent is far above any venue's.
MAKER_FEE_RANGE = (Decimal("-0.001"), Decimal("0.01"))
TAKER_FEE_RANGE = (Decimal(0), Decimal("0.01"))
# Hyperliquid caps funding at 4 % an hour, the highest cap of these venues.
MAX_HOURLY_FUNDING = Decimal("0.05")
MARKET_TIME_WINDOW = timedelta(days=1)
EARLIEST = datetime(2015, 1, 1, tzinfo=UTC)  # no venue here traded before
_MS_PER_MINUTE = 60_000
_GAP_TOLERANCE_MS = 30_000  # settlement timestamps jitter by seconds, never by half a minute


class Boundary:
    """The checks for one venue; `method` names the call whose answer is being read."""

    def __init__(self, venue: str, clock: Clock) -> None:
        self.venue = venue
        self.clock = clock

    def error(self, method: str, field: str, detail: str) -> MalformedResponseError:
        return MalformedResponseError(self.venue, f"{method}: field {field!r} {detail}")

    # ---------------------------------------------------------------- numbers

    def number(self, value: object, method: str, field: str) -> Decimal:
        """A finite number the database can hold."""
        if value is None:
            raise self.error(method, field, "is missing")
        try:
            result = to_decimal(value, field)
        except (ValueError, InvalidOperation, OverflowError) as exc:
            raise self.error(method, field, f"is not a number we can use ({exc})") from None
        if abs(result) >= NUMERIC_LIMIT:
            raise self.error(method, field, f"is {result}, beyond Numeric(38,18)")
        return result

    def optional(self, value: object, method: str, field: str) -> Decimal | None:
        return None if value is None else self.number(value, method, field)

    def price(self, value: object, method: str, field: str) -> Decimal:
        result = self.number(value, method, field)
        if result <= 0:
            raise self.error(method, field, f"is {result}; a price must be positive")
        return result

    def quantity(self, value: object, method: str, field: str) -> Decimal:
        result = self.number(value, method, field)
        if result < 0:
            raise self.error(method, field, f"is {result}; a quantity cannot be negative")
        return result

    def step(self, value: object, method: str, field: str) -> Decimal:
        result = self.number(value, method, field)
        if result <= 0:
            raise self.error(method, field, f"is {result}; a size or price step must be positive")
        return result

    def fee_rate(self, value: object, method: str, field: str, *, maker: bool) -> Decimal:
        result = self.number(value, method, field)
        low, high = MAKER_FEE_RANGE if maker else TAKER_FEE_RANGE
        if not low <= result <= high:
            raise self.error(method, field, f"is {result}, outside the sane band [{low}, {high}]")
        return result

    def funding_rate(
        self, value: object, interval_hours: Decimal, method: str, field: str
    ) -> Decimal:
        result = self.number(value, method, field)
        if abs(result) > MAX_HOURLY_FUNDING * interval_hours:
            raise self.error(
                method,
                field,
                f"is {result} per {interval_hours} h, above {MAX_HOURLY_FUNDING} an hour",
            )
        return result

    def filled(self, filled: Decimal, amount: Decimal, method: str) -> Decimal:
        if not 0 <= filled <= amount:
            raise self.error(method, "filled", f"is {filled} of an order for {amount}")
        return filled

    # ---------------------------------------------------------------- intervals

    def interval_hours(self, hours: Decimal, method: str, field: str) -> Decimal:
        """A funding interval: 1 minute to 24 hours, a whole number of minutes dividing an
        hour or a whole number of hours dividing a day."""
        minutes = hours * 60
        on_grid = minutes == minutes.to_integral_value() and (
            (0 < minutes < 60 and 60 % int(minutes) == 0)
            or (60 <= minutes <= 1440 and minutes % 60 == 0 and 24 % int(minutes / 60) == 0)
        )
        if not on_grid:
            raise self.error(
                method,
                field,
                f"gives a funding interval of {hours} h, not between 1 minute and 24 hours "
                "on the funding grid",
            )
        return hours.to_integral_value() if minutes % 60 == 0 else hours

    def interval_from_ms(self, value: object, method: str, field: str) -> Decimal:
        ms = self.number(value, method, field)
        return self.interval_hours(ms / (60 * _MS_PER_MINUTE), method, field)

    def interval_from_gap(self, earlier_ms: int, later_ms: int, method: str) -> Decimal:
        """The interval between two settlements, to the minute (timestamps jitter)."""
        gap = later_ms - earlier_ms
        minutes = round(gap / _MS_PER_MINUTE)
        if abs(gap - minutes * _MS_PER_MINUTE) > _GAP_TOLERANCE_MS or minutes <= 0:
            raise self.error(method, "timestamp", f"settlements {gap} ms apart give no interval")
        return self.interval_hours(Decimal(minutes) / 60, method, "timestamp")

    # ---------------------------------------------------------------- times

    def time(self, value: object, method: str, field: str, *, market: bool = True) -> datetime:
        """A venue time in milliseconds. A market time (a rate, a book, a next funding time)
        must lie within a day of the clock's now; a record's time (an order's, a deposit's)
        must lie after 2015 and not in the future."""
        if value is None:
            raise self.error(method, field, "is missing; refusing to take the clock's now")
        try:
            ms = to_decimal(value, field)
        except ValueError as exc:
            raise self.error(method, field, f"is not a time ({exc})") from None
        now = self.clock.now()
        try:
            when = datetime.fromtimestamp(float(ms) / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            raise self.error(method, field, f"is {ms} ms, not a time") from None
        if market and abs(when - now) > MARKET_TIME_WINDOW:
            raise self.error(method, field, f"is {when.isoformat()}, not within a day of {now}")
        if not market and not EARLIEST <= when <= now + MARKET_TIME_WINDOW:
            raise self.error(method, field, f"is {when.isoformat()}, not a plausible time")
        return when

    def optional_time(
        self, value: object, method: str, field: str, *, market: bool = True
    ) -> datetime | None:
        return None if value is None else self.time(value, method, field, market=market)

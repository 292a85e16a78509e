"""Market value types shared by every layer: what an instrument is, its funding, its book.

Plain frozen dataclasses (Decimal money, timezone-aware UTC times, base-asset symbols such as
"BTC"). The venue port (`exchanges.base`) returns them, the funding service ranks them, the
database stores them and strategies decide on them, so they live here, below all of those.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

HOURS_PER_YEAR = Decimal(24 * 365)


@dataclass(frozen=True, slots=True)
class Instrument:
    venue: str
    symbol: str
    min_qty: Decimal
    qty_step: Decimal
    tick_size: Decimal
    maker_fee: Decimal  # fraction of notional, e.g. 0.0002
    taker_fee: Decimal
    max_leverage: Decimal = Decimal(20)


@dataclass(frozen=True, slots=True)
class FundingRate:
    """A venue's funding rate for one symbol, as quoted: per interval, not per hour."""

    venue: str
    symbol: str
    rate: Decimal  # per funding interval; positive: longs pay shorts
    interval_hours: Decimal
    next_funding_time: datetime | None
    mark_price: Decimal | None
    timestamp: datetime
    open_interest_usd: Decimal | None = None

    @property
    def hourly_rate(self) -> Decimal:
        return self.rate / self.interval_hours

    @property
    def apr(self) -> Decimal:
        return self.hourly_rate * HOURS_PER_YEAR


@dataclass(frozen=True, slots=True)
class TopOfBook:
    venue: str
    symbol: str
    bid: Decimal
    bid_qty: Decimal
    ask: Decimal
    ask_qty: Decimal
    timestamp: datetime

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2

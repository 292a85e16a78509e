"""Market value types shared by every layer: what an instrument is, its funding, its book.

Plain frozen dataclasses (Decimal money, timezone-aware UTC times, base-asset symbols such as
"BTC"). The venue port (`exchanges.base`) returns them, the funding service ranks them, the
database stores them and strategies decide on them, so they live here, below all of those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

HOURS_PER_YEAR = Decimal(24 * 365)


class FundingKind(StrEnum):
    """What a funding rate is. The two kinds are different data and are never mixed."""

    # The venue's current quote for the running interval (what it will charge if nothing
    # changes), observed at `timestamp`; it can still move before it settles.
    PREDICTED = "predicted"
    # A settlement: paid at `timestamp`, which is the END of its accrual window
    # [timestamp - interval_hours, timestamp); known, and usable, only from `timestamp` on.
    REALISED = "realised"


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


class SeriesKey(NamedTuple):
    """One funding series: the instrument (venue, base symbol, margin asset) it belongs to."""

    venue: str
    symbol: str
    margin_asset: str

    def __str__(self) -> str:
        return f"{self.venue} {self.symbol}-{self.margin_asset}"


@dataclass(frozen=True, slots=True)
class FundingRate:
    """A venue's funding rate for one instrument, as quoted: per interval, not per hour.

    An instrument is (venue, base symbol, margin asset): the USDT- and the USDC-margined
    perpetual of one base are different instruments with different funding.
    """

    venue: str
    symbol: str  # the base asset, e.g. "BTC"
    rate: Decimal  # per funding interval; positive: longs pay shorts
    interval_hours: Decimal
    next_funding_time: datetime | None
    mark_price: Decimal | None
    timestamp: datetime  # PREDICTED: when observed; REALISED: when settled (window end)
    open_interest_usd: Decimal | None = None
    margin_asset: str = field(kw_only=True)  # what the perpetual settles in: "USDC", "USDT"
    kind: FundingKind = field(kw_only=True)

    @property
    def hourly_rate(self) -> Decimal:
        return self.rate / self.interval_hours

    @property
    def series(self) -> SeriesKey:
        return SeriesKey(self.venue, self.symbol, self.margin_asset)

    @property
    def accrual_start(self) -> datetime:
        """Start of the window the rate accrues over (for a settlement: before it is known)."""
        return self.timestamp - timedelta(hours=float(self.interval_hours))

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

"""The history as the paper venues' market: what `DEMO_DATA=real make demo` replays.

The paper venues (`exchanges/paper/`) read their market from `paper_market_ticks` and settle
funding by the scenario calendar: at each funding time (a multiple of the tick's interval
since midnight UTC) every position pays the rate of the tick in force then. This writes one
tick per hour per venue and symbol of the history (`load_data`, the backtest's own loading:
the same rows, margin assets and price proxy), so that calendar reproduces the venues'
settlements:

- the tick at hour H carries the mark in force at H (the backtest's hourly proxy) and the
  last rate the venue settled by H + `SETTLED_WITHIN` (venues stamp a settlement a few
  milliseconds after the hour): the funding paid at H is the realised rate of the window
  that ends at H, and the funding collector quotes it from H on, as in a backtest;
- a venue's interval is the one of its settlements (Binance and Bybit 8 h, Hyperliquid 1 h).

What the calendar does not keep: a missing settlement is paid again at the last rate (the
backtest pays nothing then), and a settlement between whole hours is paid at the hour.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from backtest.history import BacktestData
from exchanges.simulation.market import Tick

HOUR = timedelta(hours=1)
SETTLED_WITHIN = timedelta(minutes=1)


def paper_ticks(data: BacktestData, start: datetime, end: datetime) -> list[Tick]:
    """Hourly ticks of every venue and symbol of `data` in [start, end], oldest first."""
    if start.minute or start.second or start.microsecond:
        raise ValueError(f"the replay starts on a whole hour, not at {start.isoformat()}")
    ticks: list[Tick] = []
    at = start
    while at <= end:
        for venue, market in sorted(data.markets.items()):
            known = market.latest(list(data.symbols), at + SETTLED_WITHIN)
            for symbol in sorted(known):
                tick = known[symbol]
                ticks.append(
                    Tick(venue, symbol, at, tick.mark_price, tick.funding_rate, tick.interval_hours)
                )
        at += HOUR
    return ticks

"""Fetch realised funding history from a venue through ccxt's `fetch_funding_rate_history`.

Paged over the window [since, until]: each request sends `since`, `limit` and `until`
(ccxt passes on what the venue takes). Most venues answer from `since` forward: the window's
start then moves one millisecond past the newest settlement received. Some answer with the
newest end of the window instead, ignoring `since` (dYdX's indexer): a full page that reaches
`until` (no step of the page's own spacing fits after its newest settlement) but not `since`
shows it, and from then on the window's end moves before the oldest received, across any gap
in the venue's history. Paging stops when the window is empty or a page brings nothing new.
Pages that overlap (venues often repeat the boundary settlement) are de-duplicated by
settlement time; nothing outside the window is kept.

ccxt's history carries the rate and the settlement time but no interval: the interval of
each settlement is measured from the one before it (the first from the one after it), which
is also how the shared dataset's intervals were made. The rows then go through the same
validation as an import (`validate.py`): a gap that is no plausible interval is refused,
naming the settlement, rather than stored with a guessed one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import ccxt
import numpy as np
import pyarrow as pa

from core.clock import Clock
from core.errors import ConfigError
from exchanges.base import (
    CapabilityNotSupportedError,
    MalformedResponseError,
    TransientExchangeError,
)
from exchanges.ccxt_parsing import translate_error
from exchanges.ccxt_venues import select_perpetuals
from funding_service.history.batch import SettlementBatch, to_micros
from funding_service.history.mapping import FIELDS
from funding_service.history.reader import SourceTable
from funding_service.history.validate import HistoryRowError, validate

PAGE_LIMIT = 500
MAX_PAGES = 10_000
READ_ATTEMPTS = 3
MS_PER_HOUR = 3_600_000


def resolve_market(
    exchange: ccxt.Exchange, venue: str, symbol: str, clock: Clock
) -> Mapping[str, Any]:
    """The perpetual `symbol` names: `BTC-USDT-PERP` (base and margin), `BTC/USDT:USDT`
    (ccxt's own), or `BTC` (the perpetual perpbot's venue adapter trades)."""
    markets = _read(venue, "load_markets", exchange.load_markets, clock)
    perpetuals: list[Mapping[str, Any]] = [
        m for m in markets.values() if m.get("swap") and m.get("linear") is not False
    ]
    if "/" in symbol:
        found = [m for m in perpetuals if m.get("symbol") == symbol]
    elif symbol.endswith("-PERP") and symbol.count("-") == 2:
        base, margin, _ = symbol.split("-")
        found = [m for m in perpetuals if (m.get("base"), m.get("settle")) == (base, margin)]
    else:
        chosen = select_perpetuals(perpetuals).get(symbol)
        found = [chosen] if chosen is not None else []
    if not found:
        raise ConfigError(
            f"{venue} has no linear perpetual {symbol!r} (give BASE-MARGIN-PERP such as "
            "BTC-USDT-PERP, a ccxt symbol such as BTC/USDT:USDT, or a base such as BTC)"
        )
    return found[0]


def fetch_settlements(
    exchange: ccxt.Exchange,
    venue: str,
    symbol: str,
    since: datetime,
    until: datetime,
    clock: Clock,
    *,
    page_limit: int = PAGE_LIMIT,
) -> SettlementBatch:
    """Every settlement of `symbol` on `venue` paid in [since, until], validated."""
    if exchange.has.get("fetchFundingRateHistory") not in (True, "emulated"):
        raise CapabilityNotSupportedError(
            venue, f"ccxt {exchange.id} {ccxt.__version__} has no fetchFundingRateHistory"
        )
    market = resolve_market(exchange, venue, symbol, clock)
    ccxt_symbol = str(market["symbol"])
    low, high = to_micros(since) // 1000, to_micros(until) // 1000
    found: dict[int, float] = {}
    newest_end = False  # the venue answers with the newest end of the window
    for _ in range(MAX_PAGES):
        page = _read(
            venue,
            "fetch_funding_rate_history",
            partial(
                exchange.fetch_funding_rate_history,
                ccxt_symbol,
                since=low,
                limit=page_limit,
                params={"until": high},
            ),
            clock,
        )
        if any(not isinstance(e.get("timestamp"), int | float) for e in page):
            raise MalformedResponseError(
                venue, f"fetch_funding_rate_history {ccxt_symbol}: a settlement has no timestamp"
            )
        times = [int(e["timestamp"]) for e in page]
        fresh = 0
        for entry, at in zip(page, times, strict=True):
            if low <= at <= high and at not in found:
                found[at] = entry.get("fundingRate")
                fresh += 1
        if fresh == 0:
            break
        oldest, newest = min(times), max(times)
        # A full page reaches `until` when no step of its own spacing fits after its newest
        # settlement (the venue has none later); one that also starts after `since` came
        # from the newest end of the window. Such a venue is paged backwards from then on,
        # across any gap in its history.
        spacing = (newest - oldest) // (len(times) - 1) if len(times) > 1 else 0
        if len(page) >= page_limit and newest + spacing > high and oldest > low:
            newest_end = True
        if newest_end:
            high = oldest - 1
        else:
            low = newest + 1
        if low > high:
            break
    else:
        raise TransientExchangeError(
            venue, f"funding history of {ccxt_symbol}: over {MAX_PAGES} pages"
        )
    return _validated(venue, market, found, clock)


def _validated(
    venue: str, market: Mapping[str, Any], found: dict[int, float], clock: Clock
) -> SettlementBatch:
    label = Path(f"{venue} {market['symbol']} (fetched)")
    if not found:
        return SettlementBatch.empty()
    times = np.array(sorted(found), dtype=np.int64)
    if len(times) < 2:
        raise HistoryRowError(
            f"{label}: row 1",
            "'interval_hours'",
            "one settlement only: its interval cannot be measured; fetch a longer span",
            1,
        )
    gaps = np.diff(times) / MS_PER_HOUR
    # Settlement stamps carry milliseconds of jitter (08:00:00.004): a gap within a minute
    # of whole hours is that many hours; any other gap is left as it is, and refused.
    whole = np.rint(gaps)
    gaps = np.where(np.abs(gaps - whole) < 1 / 60, whole, gaps)
    hours = np.concatenate([[gaps[0]], gaps])
    table = pa.table(
        {
            "venue": pa.array([venue] * len(times), pa.string()),
            "canonical_symbol": pa.array(
                [f"{market['base']}-{market['settle']}-PERP"] * len(times), pa.string()
            ),
            "settlement_ts": pa.array(times * 1000, pa.timestamp("us", tz="UTC")),
            "rate_raw": pa.array([found[int(t)] for t in times], pa.float64()),
            "interval_hours": pa.array(hours, pa.float64()),
        }
    )
    columns = {field: field for field in FIELDS if field in table.column_names}
    return validate(SourceTable(label, table, columns, is_csv=False), clock.now())


def _read(venue: str, operation: str, call: Callable[[], Any], clock: Clock) -> Any:
    """A read with a few retries of transient failures (backoff through the clock)."""
    for attempt in range(READ_ATTEMPTS):
        try:
            return call()
        except ccxt.BaseError as exc:
            error = translate_error(venue, operation, exc, side_effect=False)
            if not isinstance(error, TransientExchangeError) or attempt + 1 == READ_ATTEMPTS:
                raise error from exc
        clock.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable: the loop returns or raises")

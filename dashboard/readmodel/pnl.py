"""PnL over time, split into funding, fees and price PnL, and the same totals now.

Each part comes from the rows that record it, at the time it happened:
- funding: `funding_payments.amount_usd` at `funding_time` (both legs of every position);
- fees: `orders.fee_usd` at `sent_at` (every order any strategy sent), counted as a cost;
- price PnL: realised, the `trading_pnl_usd` of `position.settled` events (a hedged close) and
  the price part (`pnl + fees`) of `grid.take_profit` events; unrealised, the latest
  `unrealized_pnl_usd` monitoring wrote per position (`position.updated` events), which
  drops to zero when the position closes.
Net PnL = funding - fees + price PnL. The totals use the same definitions, reading the
positions table where it holds the same sums (funding per leg is the sum of the leg's
payments, kept by monitoring; the unrealised PnL is the latest monitoring wrote), so the
live point continues the curve.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from core.enums import ACTIVE_POSITION_STATUSES

POINTS = 120  # buckets on the time axis

# Funding, fees and realised price PnL: every amount summed into its bucket. Unrealised PnL:
# per position and bucket only the newest value monitoring wrote (`position.updated`; zero at
# `position.closed`), found by a grouped scan and read back by primary key, then the change
# from the position's previous bucket. Reading the payload of one event per position and
# bucket instead of every monitor update is what keeps the curve fast over a long log (see
# bench/bench_dashboard.py). Then cumulative sums at the end of each bucket. A time's bucket
# (0 .. POINTS - 1) uses `date_part`, a float: `extract` is a much slower numeric.
_SERIES = text(
    """
WITH newest AS (
    SELECT entity_id,
           least(greatest(floor(date_part('epoch', occurred_at - :lo) / :step), 0), :last)::int
               AS b,
           max(id) AS id
    FROM events
    WHERE occurred_at <= :hi
      AND ((kind = 'position.updated' AND payload -> 'changes' ? 'unrealized_pnl_usd')
           OR kind = 'position.closed')
    GROUP BY 1, 2
), unrealised AS (
    SELECT n.entity_id, n.b,
           CASE WHEN e.kind = 'position.closed' THEN 0
                ELSE (e.payload -> 'changes' ->> 'unrealized_pnl_usd')::numeric END AS value
    FROM newest n JOIN events e ON e.id = n.id
), moves AS (
    SELECT funding_time AS at, amount_usd AS funding, 0 AS fees, 0 AS price
    FROM funding_payments
    UNION ALL
    SELECT sent_at, 0, fee_usd, 0 FROM orders WHERE sent_at IS NOT NULL AND fee_usd <> 0
    UNION ALL
    SELECT occurred_at, 0, 0, (payload ->> 'trading_pnl_usd')::numeric
    FROM events WHERE kind = 'position.settled'
    UNION ALL
    SELECT occurred_at, 0, 0, (payload ->> 'pnl')::numeric + (payload ->> 'fees')::numeric
    FROM events WHERE kind = 'grid.take_profit'
), bucketed AS (
    SELECT least(greatest(floor(date_part('epoch', at - :lo) / :step), 0), :last)::int AS b,
           sum(funding) AS funding, sum(fees) AS fees, sum(price) AS price
    FROM moves WHERE at <= :hi GROUP BY 1
    UNION ALL
    SELECT b, 0, 0, sum(value - coalesce(previous, 0))
    FROM (SELECT b, value, lag(value) OVER (PARTITION BY entity_id ORDER BY b) AS previous
          FROM unrealised) changes
    GROUP BY b
)
SELECT b, sum(sum(funding)) OVER w AS funding, sum(sum(fees)) OVER w AS fees,
       sum(sum(price)) OVER w AS price
FROM bucketed GROUP BY b WINDOW w AS (ORDER BY b) ORDER BY b
"""
)

_RANGE = text(
    """
SELECT least(
    (SELECT min(funding_time) FROM funding_payments),
    (SELECT min(sent_at) FROM orders),
    (SELECT min(created_at) FROM strategy_positions))
"""
)

_TOTALS = text(
    """
SELECT
    (SELECT coalesce(sum(long_funding_usd + short_funding_usd), 0)
     FROM strategy_positions) AS funding,
    (SELECT coalesce(sum(fee_usd), 0) FROM orders) AS fees,
    (SELECT coalesce(sum((payload ->> 'trading_pnl_usd')::numeric), 0)
     FROM events WHERE kind = 'position.settled')
    + (SELECT coalesce(sum((payload ->> 'pnl')::numeric + (payload ->> 'fees')::numeric), 0)
       FROM events WHERE kind = 'grid.take_profit')
    + (SELECT coalesce(sum(unrealized_pnl_usd), 0) FROM strategy_positions
       WHERE status IN :active) AS price
"""
).bindparams(bindparam("active", [s.value for s in ACTIVE_POSITION_STATUSES], expanding=True))


@dataclass(frozen=True, slots=True)
class PnlPoint:
    at: datetime
    funding: Decimal
    fees: Decimal
    price: Decimal

    @property
    def net(self) -> Decimal:
        return self.funding - self.fees + self.price

    def to_json(self) -> dict[str, str]:
        return {
            "at": self.at.isoformat(),
            "funding": str(self.funding),
            "fees": str(self.fees),
            "price": str(self.price),
            "net": str(self.net),
        }


def series(session: Session, now: datetime) -> list[PnlPoint]:
    """Cumulative funding, fees and price PnL at the end of each of `POINTS` buckets from the
    first recorded trade to `now` (empty when nothing has traded yet)."""
    start = session.execute(_RANGE).scalar()
    if start is None or start >= now:
        return []
    step = max((now - start).total_seconds() / POINTS, 1.0)
    rows = session.execute(
        _SERIES, {"lo": start, "hi": now, "step": step, "last": POINTS - 1}
    ).all()
    return [
        PnlPoint(
            min(start + timedelta(seconds=step * (b + 1)), now),
            Decimal(funding),
            Decimal(fees),
            Decimal(price),
        )
        for b, funding, fees, price in rows
    ]


def totals(session: Session, now: datetime) -> PnlPoint:
    funding, fees, price = session.execute(_TOTALS).one()
    return PnlPoint(now, Decimal(funding), Decimal(fees), Decimal(price))

"""What the circuit breakers read and remember: per-scope figures from the positions table,
the PnL marks (peak, day start) and the venue probes.

Net PnL of a scope is what its positions record: a closed position's `realized_pnl_usd`
(price PnL - fees + funding, written at settlement), an active one's unrealised PnL plus its
funding minus its fees so far, and a failed open's funding minus its fees (the price part of
an unwind is not stored on the row; its fees are the bulk of it). Scope `*` sums every
strategy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.enums import ACTIVE_POSITION_STATUSES, PositionStatus
from db.models import BreakerMark, StrategyPosition, VenueHealth
from db.models.halts import GLOBAL_SCOPE

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class PnlMarks:
    peak_pnl_usd: Decimal
    day_start_pnl_usd: Decimal


@dataclass(frozen=True, slots=True)
class VenueProbe:
    venue: str
    account: str
    checked_at: datetime
    last_ok_at: datetime | None
    down_since: datetime | None
    last_error: str | None


def _scoped(query: Select[tuple[Decimal]], scope: str) -> Select[tuple[Decimal]]:
    return query if scope == GLOBAL_SCOPE else query.where(StrategyPosition.strategy_name == scope)


class BreakerRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # ------------------------------------------------------------ figures

    def net_pnl(self, scope: str) -> Decimal:
        p = StrategyPosition
        active = [s.value for s in ACTIVE_POSITION_STATUSES]
        funding = p.long_funding_usd + p.short_funding_usd
        value = case(
            (p.status == PositionStatus.CLOSED.value, p.realized_pnl_usd),
            (p.status.in_(active), p.unrealized_pnl_usd + funding - p.fees_usd),
            else_=funding - p.fees_usd,
        )
        query = select(func.coalesce(func.sum(value), ZERO))
        return Decimal(self._session.scalar(_scoped(query, scope)) or ZERO)

    def consecutive_failed_opens(self, scope: str) -> int:
        """How many of the scope's newest positions in a row are FAILED (never opened)."""
        p = StrategyPosition
        query = select(p.status).order_by(p.created_at.desc()).limit(1000)
        if scope != GLOBAL_SCOPE:
            query = query.where(p.strategy_name == scope)
        count = 0
        for status in self._session.scalars(query):
            if status != PositionStatus.FAILED.value:
                break
            count += 1
        return count

    def unhedged_notional(self, scope: str) -> Decimal:
        """USD at entry price of the part of each active hedged position held on one leg only."""
        p = StrategyPosition
        gap = func.abs(p.long_qty - p.short_qty)
        price = func.coalesce(
            case((p.long_qty > p.short_qty, p.long_entry_price), else_=p.short_entry_price),
            p.long_entry_price,
            p.short_entry_price,
            ZERO,
        )
        query = select(func.coalesce(func.sum(gap * price), ZERO)).where(
            p.long_dex.is_not(None),
            p.short_dex.is_not(None),
            p.status.in_([s.value for s in ACTIVE_POSITION_STATUSES]),
        )
        return Decimal(self._session.scalar(_scoped(query, scope)) or ZERO)

    # ------------------------------------------------------------ PnL marks

    def roll_marks(self, scope: str, pnl: Decimal, at: datetime) -> PnlMarks:
        """Raise the peak to `pnl` if higher; start a new day's mark at `pnl` when the UTC day
        changed. Returns the marks after the update (one row per scope, upserted)."""
        today = at.date()
        table = BreakerMark.__table__
        stmt = insert(BreakerMark).values(
            scope=scope, peak_pnl_usd=pnl, day=today, day_start_pnl_usd=pnl, updated_at=at
        )
        upsert = stmt.on_conflict_do_update(
            index_elements=["scope"],
            set_={
                "peak_pnl_usd": func.greatest(table.c.peak_pnl_usd, pnl),
                "day_start_pnl_usd": case(
                    (table.c.day == today, table.c.day_start_pnl_usd), else_=pnl
                ),
                "day": today,
                "updated_at": at,
            },
        ).returning(table.c.peak_pnl_usd, table.c.day_start_pnl_usd)
        peak, day_start = self._session.execute(upsert).one()
        return PnlMarks(Decimal(peak), Decimal(day_start))

    # ------------------------------------------------------------ venue probes

    def record_probe(self, venue: str, account: str, at: datetime, error: str | None) -> VenueProbe:
        """One probe's outcome: an answer clears the outage, a failure starts one (or
        continues it: `down_since` keeps the first failure)."""
        table = VenueHealth.__table__
        ok = error is None
        stmt = insert(VenueHealth).values(
            venue=venue,
            account=account,
            checked_at=at,
            last_ok_at=at if ok else None,
            down_since=None if ok else at,
            last_error=error,
        )
        upsert = stmt.on_conflict_do_update(
            index_elements=["venue", "account"],
            set_={
                "checked_at": at,
                "last_ok_at": at if ok else table.c.last_ok_at,
                "down_since": None if ok else func.coalesce(table.c.down_since, at),
                "last_error": error,
            },
        ).returning(table)
        row = self._session.execute(upsert).one()
        return VenueProbe(
            row.venue, row.account, row.checked_at, row.last_ok_at, row.down_since, row.last_error
        )

    def probes(self) -> list[VenueProbe]:
        rows = self._session.scalars(
            select(VenueHealth).order_by(VenueHealth.venue, VenueHealth.account)
        )
        return [
            VenueProbe(r.venue, r.account, r.checked_at, r.last_ok_at, r.down_since, r.last_error)
            for r in rows
        ]

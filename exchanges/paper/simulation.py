"""Advancing a paper venue kept in PostgreSQL: locks, rows, then the simulation core.

Every call on a paper venue first advances the venue to the clock's now under the venue's
row lock, so state is always current and every process sees the same history:

1. withdrawals whose delay has elapsed complete (or fail and are refunded);
2. the accounts with resting orders or open positions are locked (in id order: no deadlock
   between callers), their rows loaded into a `VenueBook`, and the core replays the market
   window (funding events, fills of crossed limit orders, liquidations: see
   `exchanges/simulation/replay.py`);
3. the core's changes and new facts are written back, and `processed_through` moves to now.

A withdrawal finishing only moves collateral, which nothing in the replay reads, so doing
them first gives the same balances as interleaving them by time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.types import String

from core.enums import MovementState
from db.models.paper import PaperOrder, PaperPosition, PaperTransfer
from exchanges.paper.book import OPEN_ORDER_STATUSES, lock_accounts, lock_venue
from exchanges.paper.store import RowBook
from exchanges.paper.transfers import finish_withdrawal
from exchanges.simulation.market import MarketSource
from exchanges.simulation.replay import advance
from exchanges.simulation.state import VenueAdvance

# What the advance works on, as ids in one round trip: the venue's resting orders, its
# positions that are open or have a resting order, and its withdrawals due by now. Read
# after the venue's row lock, so current. Usually all three are small or empty: each kind
# is then loaded (and its rows kept by the session) only when there is one.
_IN_PLAY = text(
    """
    SELECT
      ARRAY(SELECT id FROM paper_orders WHERE venue = :venue AND status = ANY(:open)),
      ARRAY(SELECT p.id FROM paper_positions AS p WHERE p.venue = :venue AND (
              p.qty <> 0 OR EXISTS (
                SELECT 1 FROM paper_orders AS o
                WHERE o.venue = :venue AND o.account_id = p.account_id
                  AND o.symbol = p.symbol AND o.status = ANY(:open)))),
      ARRAY(SELECT id FROM paper_transfers
            WHERE venue = :venue AND state = :pending AND complete_at <= :now)
    """
).bindparams(bindparam("open", value=list(OPEN_ORDER_STATUSES), type_=ARRAY(String)))

_Row = TypeVar("_Row", PaperOrder, PaperPosition, PaperTransfer)


def _load(
    session: Session, entity: type[_Row], ids: list[object], *order: InstrumentedAttribute[Any]
) -> list[_Row]:
    if not ids:
        return []
    return list(session.scalars(select(entity).where(entity.id.in_(ids)).order_by(*order)))


def advance_venue(
    session: Session, venue: str, now: datetime, market: MarketSource
) -> VenueAdvance:
    """Bring the venue up to `now` (or to where another process already brought it).

    The venue's time never goes back: with clocks slightly apart in several processes, the
    venue's now is the latest time any of them reached.
    """
    state = lock_venue(session, venue, now)
    start = state.processed_through
    if now <= start:
        return VenueAdvance(venue, start, start)
    report = VenueAdvance(venue, start, now)
    order_ids, position_ids, withdrawal_ids = session.execute(
        _IN_PLAY, {"venue": venue, "now": now, "pending": MovementState.PENDING.value}
    ).one()
    orders = _load(session, PaperOrder, order_ids, PaperOrder.placed_at, PaperOrder.client_order_id)
    positions = _load(session, PaperPosition, position_ids)
    withdrawals = _load(session, PaperTransfer, withdrawal_ids)
    ids = {o.account_id for o in orders} | {p.account_id for p in positions}
    accounts = lock_accounts(session, ids | {w.account_id for w in withdrawals})
    for transfer in sorted(withdrawals, key=lambda w: (w.complete_at, w.reference)):
        finish_withdrawal(session, accounts[transfer.account_id], transfer)
        report.withdrawals_finished += 1
        report.touched_accounts.add(transfer.account_id)
    rows = RowBook(session, venue)
    for account_id in sorted(ids):
        rows.account(accounts[account_id])
    for position in positions:
        rows.holding(position)
    for order in orders:
        rows.order(order)
    active = rows.book.active_symbols()
    advance(rows.book, market.window(active, start, now), active, market.spec, report)
    rows.persist()
    state.processed_through = now
    return report

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

from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import Session

from core.enums import MovementState
from db.models.paper import PaperOrder, PaperPosition, PaperTransfer
from exchanges.paper.book import OPEN_ORDER_STATUSES, lock_accounts, lock_venue
from exchanges.paper.store import RowBook
from exchanges.paper.transfers import finish_withdrawal
from exchanges.simulation.market import MarketSource
from exchanges.simulation.replay import advance
from exchanges.simulation.state import VenueAdvance


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
    orders = list(
        session.scalars(
            select(PaperOrder)
            .where(PaperOrder.venue == venue, PaperOrder.status.in_(OPEN_ORDER_STATUSES))
            .order_by(PaperOrder.placed_at, PaperOrder.client_order_id)
        )
    )
    resting = {(o.account_id, o.symbol) for o in orders}
    held = PaperPosition.qty != 0
    if resting:
        held = or_(
            held, tuple_(PaperPosition.account_id, PaperPosition.symbol).in_(sorted(resting))
        )
    positions = list(
        session.scalars(select(PaperPosition).where(PaperPosition.venue == venue, held))
    )
    withdrawals = list(
        session.scalars(
            select(PaperTransfer).where(
                PaperTransfer.venue == venue,
                PaperTransfer.state == MovementState.PENDING.value,
                PaperTransfer.complete_at <= now,
            )
        )
    )
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

"""Row locks and reads of accounts, orders and positions inside one paper-venue transaction.

The venue row is the venue's sequencer, an account row guards its collateral. Trading
changes collateral through the simulation core (`RowBook.persist` writes its ledger rows
and the new balance together); withdrawals and deposits go through `post` here, which does
the same for one row.

The statements every call runs are built once, here, with bound parameters: building a
SQLAlchemy expression costs more than the database takes to answer it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from core.enums import LedgerKind, OrderStatus
from db.models.paper import PaperAccount, PaperLedgerEntry, PaperOrder, PaperPosition, PaperVenue
from exchanges.simulation.margin import money

OPEN_ORDER_STATUSES = (OrderStatus.OPEN.value, OrderStatus.PARTIALLY_FILLED.value)

_VENUE = select(PaperVenue).where(PaperVenue.venue == bindparam("venue")).with_for_update()
_ACCOUNT = select(PaperAccount).where(
    PaperAccount.venue == bindparam("venue"), PaperAccount.account == bindparam("account")
)
_ACCOUNT_LOCKED = _ACCOUNT.with_for_update()
_ORDER = select(PaperOrder).where(
    PaperOrder.venue == bindparam("venue"), PaperOrder.client_order_id == bindparam("cid")
)
_OWN_ORDER = _ORDER.join(PaperAccount, PaperAccount.id == PaperOrder.account_id).where(
    PaperAccount.account == bindparam("account")
)
_OPEN_ORDERS = (
    select(PaperOrder)
    .join(PaperAccount, PaperAccount.id == PaperOrder.account_id)
    .where(
        PaperAccount.venue == bindparam("venue"),
        PaperAccount.account == bindparam("account"),
        PaperOrder.status.in_(OPEN_ORDER_STATUSES),
    )
    .order_by(PaperOrder.placed_at, PaperOrder.client_order_id)
)
_POSITION = select(PaperPosition).where(
    PaperPosition.account_id == bindparam("account_id"),
    PaperPosition.symbol == bindparam("symbol"),
)
_OPEN_POSITIONS = (
    select(PaperPosition)
    .where(PaperPosition.account_id == bindparam("account_id"), PaperPosition.qty != 0)
    .order_by(PaperPosition.symbol)
)
_COMMITTED = select(
    select(func.coalesce(func.sum(PaperPosition.margin), 0))
    .where(PaperPosition.account_id == bindparam("account_id"))
    .scalar_subquery(),
    select(func.coalesce(func.sum(PaperOrder.reserved_margin), 0))
    .where(
        PaperOrder.account_id == bindparam("account_id"),
        PaperOrder.status.in_(OPEN_ORDER_STATUSES),
    )
    .scalar_subquery(),
)


# What placing an order reads, in one round trip: the account (locked), whether the client id
# is taken (by any account of the venue), the position in the symbol, the margin committed and
# the scenario's mark in force at :at (the rule of `ScenarioMarket.latest`, for one symbol).
# Orders and positions change only under the venue's row lock, which the caller holds, so
# reading them in the statement that locks the account sees them current. The account row
# can also be locked by a paper chain crediting a deposit (collateral only); FOR UPDATE then
# waits and returns the newest collateral.
_ORDER_CONTEXT = text(
    """
    SELECT a.id, a.collateral, o.id AS order_id,
           p.id AS position_id, p.qty, p.entry_price, p.margin, p.realized_pnl,
           p.funding_pnl, p.updated_at,
           (SELECT coalesce(sum(margin), 0) FROM paper_positions
            WHERE account_id = a.id) AS held,
           (SELECT coalesce(sum(reserved_margin), 0) FROM paper_orders
            WHERE account_id = a.id AND status = ANY(:open)) AS reserved,
           t.mark_price AS tick_mark
    FROM paper_accounts AS a
    LEFT JOIN paper_orders AS o ON o.venue = a.venue AND o.client_order_id = :cid
    LEFT JOIN paper_positions AS p ON p.account_id = a.id AND p.symbol = :symbol
    LEFT JOIN LATERAL (
        SELECT mark_price FROM paper_market_ticks
        WHERE venue = a.venue AND symbol = :symbol AND ts <= :at
        ORDER BY ts DESC LIMIT 1
    ) AS t ON true
    WHERE a.venue = :venue AND a.account = :account
    FOR UPDATE OF a
    """
).bindparams(bindparam("open", value=list(OPEN_ORDER_STATUSES), type_=ARRAY(String)))


def order_context(
    session: Session, venue: str, account: str, client_order_id: str, symbol: str, at: datetime
) -> Row[Any]:
    """The account locked, plus what an order on `symbol` needs (see `_ORDER_CONTEXT`); the
    account is created on first use."""
    names = {
        "venue": venue,
        "account": account,
        "cid": client_order_id,
        "symbol": symbol,
        "at": at,
    }
    session.flush()  # a text statement never flushes the ORM by itself
    row = session.execute(_ORDER_CONTEXT, names).one_or_none()
    if row is None:
        lock_account(session, venue, account)
        row = session.execute(_ORDER_CONTEXT, names).one()
    return row


def lock_venue(session: Session, venue: str, now: datetime) -> PaperVenue:
    """Lock the venue row (creating it at `now`): the venue's single sequencer."""
    row = session.scalars(_VENUE, {"venue": venue}).one_or_none()
    if row is not None:
        return row
    session.execute(
        insert(PaperVenue)
        .values(venue=venue, processed_through=now)
        .on_conflict_do_nothing(index_elements=["venue"])
    )
    return session.scalars(_VENUE, {"venue": venue}).one()


def lock_account(session: Session, venue: str, account: str) -> PaperAccount:
    """Lock the account row for this transaction, creating an empty account on first use."""
    names = {"venue": venue, "account": account}
    row = session.scalars(_ACCOUNT_LOCKED, names).one_or_none()
    if row is not None:
        return row
    session.execute(
        insert(PaperAccount)
        .values(venue=venue, account=account)
        .on_conflict_do_nothing(index_elements=["venue", "account"])
    )
    return session.scalars(_ACCOUNT_LOCKED, names).one()


def lock_accounts(session: Session, account_ids: set[int]) -> dict[int, PaperAccount]:
    """Lock several accounts in id order (one global order: no deadlock between callers)."""
    if not account_ids:
        return {}
    rows = session.scalars(
        select(PaperAccount)
        .where(PaperAccount.id.in_(sorted(account_ids)))
        .order_by(PaperAccount.id)
        .with_for_update()
    )
    return {row.id: row for row in rows}


def post(
    session: Session,
    account: PaperAccount,
    kind: LedgerKind,
    amount: Decimal,
    reference: str,
    at: datetime,
    symbol: str | None = None,
) -> None:
    """Book one change of collateral with its reason (zero amounts are not booked)."""
    amount = money(amount)
    if amount == 0:
        return
    session.add(
        PaperLedgerEntry(
            venue=account.venue,
            account_id=account.id,
            kind=kind.value,
            amount=amount,
            symbol=symbol,
            reference=reference,
            occurred_at=at,
        )
    )
    account.collateral = money(account.collateral + amount)


def committed_margin(session: Session, account_id: int) -> tuple[Decimal, Decimal]:
    """(margin held by positions, margin reserved by resting orders) of the account."""
    held, reserved = session.execute(_COMMITTED, {"account_id": account_id}).one()
    return Decimal(held), Decimal(reserved)


def available_margin(session: Session, account: PaperAccount) -> Decimal:
    held, reserved = committed_margin(session, account.id)
    return account.collateral - held - reserved


def account_row(session: Session, venue: str, account: str) -> PaperAccount | None:
    return session.scalars(_ACCOUNT, {"venue": venue, "account": account}).one_or_none()


def order_row(session: Session, venue: str, client_order_id: str) -> PaperOrder | None:
    """The order with this client id on the venue, whichever account placed it."""
    return session.scalars(_ORDER, {"venue": venue, "cid": client_order_id}).one_or_none()


def own_order(
    session: Session, venue: str, account: str, client_order_id: str
) -> PaperOrder | None:
    """The order with this client id if this account placed it."""
    names = {"venue": venue, "cid": client_order_id, "account": account}
    return session.scalars(_OWN_ORDER, names).one_or_none()


def open_order_rows(
    session: Session, venue: str, account: str, symbol: str | None
) -> list[PaperOrder]:
    """The account's resting orders (in `symbol`, or all), oldest first."""
    rows = session.scalars(_OPEN_ORDERS, {"venue": venue, "account": account})
    return [row for row in rows if symbol is None or row.symbol == symbol]


def position_row(session: Session, account_id: int, symbol: str) -> PaperPosition | None:
    return session.scalars(_POSITION, {"account_id": account_id, "symbol": symbol}).one_or_none()


def open_position_rows(session: Session, account_id: int) -> list[PaperPosition]:
    """The account's positions that are not flat, by symbol."""
    return list(session.scalars(_OPEN_POSITIONS, {"account_id": account_id}))

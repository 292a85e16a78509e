"""Bookkeeping inside one paper-venue transaction: accounts, positions, fills, the ledger.

Every change of an account's collateral goes through `post`, which writes the ledger row
and moves the balance together; nothing else touches `collateral`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.enums import OrderSide, OrderStatus
from db.models.paper import (
    LedgerKind,
    Liquidity,
    PaperAccount,
    PaperFill,
    PaperLedgerEntry,
    PaperOrder,
    PaperPosition,
    PaperVenue,
)
from exchanges.paper.margin import FillEffect, PositionState, apply_fill, fee_for, money

OPEN_ORDER_STATUSES = (OrderStatus.OPEN.value, OrderStatus.PARTIALLY_FILLED.value)


def lock_venue(session: Session, venue: str, now: datetime) -> PaperVenue:
    """Lock the venue row (creating it at `now`): the venue's single sequencer."""
    query = select(PaperVenue).where(PaperVenue.venue == venue).with_for_update()
    row = session.scalars(query).one_or_none()
    if row is not None:
        return row
    session.execute(
        insert(PaperVenue)
        .values(venue=venue, processed_through=now)
        .on_conflict_do_nothing(index_elements=["venue"])
    )
    return session.scalars(query).one()


def lock_account(session: Session, venue: str, account: str) -> PaperAccount:
    """Lock the account row for this transaction, creating an empty account on first use."""
    query = (
        select(PaperAccount)
        .where(PaperAccount.venue == venue, PaperAccount.account == account)
        .with_for_update()
    )
    row = session.scalars(query).one_or_none()
    if row is not None:
        return row
    session.execute(
        insert(PaperAccount)
        .values(venue=venue, account=account)
        .on_conflict_do_nothing(index_elements=["venue", "account"])
    )
    return session.scalars(query).one()


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


def position_for(
    session: Session, account: PaperAccount, symbol: str, at: datetime
) -> PaperPosition:
    position = session.scalars(
        select(PaperPosition).where(
            PaperPosition.account_id == account.id, PaperPosition.symbol == symbol
        )
    ).one_or_none()
    if position is None:
        position = PaperPosition(
            venue=account.venue,
            account_id=account.id,
            symbol=symbol,
            qty=Decimal(0),
            entry_price=Decimal(0),
            margin=Decimal(0),
            realized_pnl=Decimal(0),
            funding_pnl=Decimal(0),
            updated_at=at,
        )
        session.add(position)
    return position


def state_of(position: PaperPosition) -> PositionState:
    return PositionState(position.qty, position.entry_price, position.margin)


def committed_margin(session: Session, account: PaperAccount) -> tuple[Decimal, Decimal]:
    """(margin held by positions, margin reserved by resting orders) of the account."""
    held = session.scalar(
        select(func.coalesce(func.sum(PaperPosition.margin), 0)).where(
            PaperPosition.account_id == account.id
        )
    )
    reserved = session.scalar(
        select(func.coalesce(func.sum(PaperOrder.reserved_margin), 0)).where(
            PaperOrder.account_id == account.id, PaperOrder.status.in_(OPEN_ORDER_STATUSES)
        )
    )
    return Decimal(held), Decimal(reserved)


def available_margin(session: Session, account: PaperAccount) -> Decimal:
    held, reserved = committed_margin(session, account)
    return account.collateral - held - reserved


def execute_fill(
    session: Session,
    account: PaperAccount,
    position: PaperPosition,
    *,
    side: OrderSide,
    qty: Decimal,
    price: Decimal,
    fee_rate: Decimal,
    leverage: Decimal,
    liquidity: Liquidity,
    at: datetime,
    reference: str,
    order: PaperOrder | None = None,
) -> tuple[FillEffect, Decimal]:
    """Apply a fill to the position, the ledger and the order. Returns (effect, fee)."""
    effect = apply_fill(state_of(position), side, qty, price, leverage)
    fee = fee_for(qty, price, fee_rate)
    position.qty = effect.after.qty
    position.entry_price = effect.after.entry_price
    position.margin = effect.after.margin
    position.realized_pnl = money(position.realized_pnl + effect.realized_pnl)
    position.updated_at = at
    post(
        session,
        account,
        LedgerKind.REALIZED_PNL,
        effect.realized_pnl,
        reference,
        at,
        position.symbol,
    )
    post(session, account, LedgerKind.TRADING_FEE, -fee, reference, at, position.symbol)
    session.add(
        PaperFill(
            venue=account.venue,
            account_id=account.id,
            order_id=order.id if order is not None else None,
            symbol=position.symbol,
            side=side.value,
            qty=qty,
            price=price,
            fee=fee,
            liquidity=liquidity.value,
            filled_at=at,
        )
    )
    if order is not None:
        previous = order.filled_qty
        total = previous + qty
        paid = (order.avg_fill_price or Decimal(0)) * previous
        order.avg_fill_price = money((paid + qty * price) / total)
        order.filled_qty = total
        order.fee = money(order.fee + fee)
        order.reserved_margin = Decimal(0)
        order.status = (
            OrderStatus.FILLED.value
            if total == order.quantity
            else OrderStatus.PARTIALLY_FILLED.value
        )
        order.updated_at = at
    return effect, fee

"""The PostgreSQL store of the simulation core: rows in, the core's decisions back out.

`RowBook` builds a `VenueBook` from the rows a transaction loaded (and locked), lets the core
work on it, then `persist()` writes everything back in the same transaction: changed fields
of the loaded accounts, positions and orders (the ORM sends only what differs), new orders
and positions, and the journal's fills, ledger rows and funding settlements as bulk inserts.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.enums import OrderSide, OrderStatus, OrderType
from db.models.paper import (
    PaperAccount,
    PaperFill,
    PaperFundingSettlement,
    PaperLedgerEntry,
    PaperOrder,
    PaperPosition,
)
from exchanges.simulation.margin import ZERO
from exchanges.simulation.state import AccountState, Holding, OrderState, Settlement, VenueBook

_ORDER_FIELDS = (
    "status",
    "filled_qty",
    "avg_fill_price",
    "fee",
    "reserved_margin",
    "detail",
    "updated_at",
)
_HOLDING_FIELDS = ("qty", "entry_price", "margin", "realized_pnl", "funding_pnl", "updated_at")
# Plain table inserts, sent as one executemany each (no ORM bookkeeping for rows never read).
_FILLS = insert(cast(Table, PaperFill.__table__))
_LEDGER = insert(cast(Table, PaperLedgerEntry.__table__))


def order_state(row: PaperOrder) -> OrderState:
    return OrderState(
        id=row.id,
        account=row.account_id,
        client_order_id=row.client_order_id,
        symbol=row.symbol,
        side=OrderSide(row.side),
        order_type=OrderType(row.order_type),
        quantity=row.quantity,
        price=row.price,
        reduce_only=row.reduce_only,
        post_only=row.post_only,
        status=OrderStatus(row.status),
        leverage=row.leverage,
        maker_fee_rate=row.maker_fee_rate,
        placed_at=row.placed_at,
        updated_at=row.updated_at,
        filled_qty=row.filled_qty,
        avg_fill_price=row.avg_fill_price,
        fee=row.fee,
        reserved_margin=row.reserved_margin,
        detail=row.detail,
    )


def holding_state(row: PaperPosition) -> Holding:
    return Holding(
        account=row.account_id,
        symbol=row.symbol,
        updated_at=row.updated_at,
        qty=row.qty,
        entry_price=row.entry_price,
        margin=row.margin,
        realized_pnl=row.realized_pnl,
        funding_pnl=row.funding_pnl,
    )


class RowBook:
    """A `VenueBook` over rows of one session, and the way back to them."""

    def __init__(self, session: Session, venue: str) -> None:
        self.session = session
        self.book = VenueBook(venue)
        self._accounts: list[tuple[AccountState, PaperAccount]] = []
        self._holdings: list[tuple[Holding, PaperPosition]] = []
        self._orders: list[tuple[OrderState, PaperOrder]] = []

    def account(self, row: PaperAccount) -> AccountState:
        state = self.book.add_account(AccountState(row.id, row.account, row.collateral))
        self._accounts.append((state, row))
        return state

    def holding(self, row: PaperPosition) -> Holding:
        state = self.book.add_holding(holding_state(row))
        self._holdings.append((state, row))
        return state

    def order(self, row: PaperOrder) -> OrderState:
        state = self.book.add_order(order_state(row))
        self._orders.append((state, row))
        return state

    def persist(self) -> None:
        """Write the core's changes and new facts into the session's transaction."""
        session = self.session
        venue = self.book.venue
        journal = self.book.journal
        for account, account_row in self._accounts:
            account_row.collateral = account.collateral
        for holding, holding_row in self._holdings:
            for name in _HOLDING_FIELDS:
                setattr(holding_row, name, getattr(holding, name))
        for order, order_row in self._orders:
            for name, value in _order_changes(order).items():
                setattr(order_row, name, value)
        session.add_all(_position_row(venue, h) for h in journal.new_holdings)
        session.add_all(_order_row(venue, o) for o in journal.new_orders)
        session.flush()  # orders before the fills that reference them
        if journal.fills:
            session.execute(
                _FILLS,
                [
                    {
                        "venue": venue,
                        "account_id": f.account,
                        "order_id": f.order_id,
                        "symbol": f.symbol,
                        "side": f.side.value,
                        "qty": f.qty,
                        "price": f.price,
                        "fee": f.fee,
                        "liquidity": f.liquidity.value,
                        "filled_at": f.filled_at,
                    }
                    for f in journal.fills
                ],
            )
        if journal.ledger:
            session.execute(
                _LEDGER,
                [
                    {
                        "venue": venue,
                        "account_id": e.account,
                        "kind": e.kind.value,
                        "amount": e.amount,
                        "symbol": e.symbol,
                        "reference": e.reference,
                        "occurred_at": e.occurred_at,
                    }
                    for e in journal.ledger
                ],
            )
        if journal.settlements or journal.unpaid:
            self._insert_settlements()

    def _insert_settlements(self) -> None:
        """One row per (venue, symbol, funding time), ever. The venue's row lock and its
        `processed_through` already make a second settlement impossible; should a row exist
        anyway, the transaction is refused rather than paying that funding twice."""
        venue = self.book.venue
        journal = self.book.journal
        settlements = journal.settlements + [
            Settlement(e.symbol, e.funding_time, e.rate, e.interval_hours, e.mark_price, 0, ZERO)
            for e in journal.unpaid
        ]
        inserted = self.session.execute(
            insert(PaperFundingSettlement)
            .values(
                [
                    {
                        "venue": venue,
                        "symbol": s.symbol,
                        "funding_time": s.funding_time,
                        "rate": s.rate,
                        "interval_hours": s.interval_hours,
                        "mark_price": s.mark_price,
                        "accounts_paid": s.accounts_paid,
                        "net_amount": s.net_amount,
                    }
                    for s in settlements
                ]
            )
            .on_conflict_do_nothing(index_elements=["venue", "symbol", "funding_time"])
            .returning(PaperFundingSettlement.id)
        ).all()
        if len(inserted) != len(settlements):
            raise RuntimeError(
                f"{venue}: {len(settlements) - len(inserted)} funding time(s) in this advance "
                "were settled before; the venue's processed time is behind its settlements"
            )


def _position_row(venue: str, holding: Holding) -> PaperPosition:
    return PaperPosition(
        venue=venue,
        account_id=holding.account,
        symbol=holding.symbol,
        **{name: getattr(holding, name) for name in _HOLDING_FIELDS},
    )


def _order_row(venue: str, order: OrderState) -> PaperOrder:
    return PaperOrder(
        id=order.id,
        venue=venue,
        account_id=order.account,
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side.value,
        order_type=order.order_type.value,
        quantity=order.quantity,
        price=order.price,
        reduce_only=order.reduce_only,
        post_only=order.post_only,
        leverage=order.leverage,
        maker_fee_rate=order.maker_fee_rate,
        placed_at=order.placed_at,
        **_order_changes(order),
    )


def _order_changes(order: OrderState) -> dict[str, object]:
    """The fields of an order that change after it is placed, as the row holds them."""
    values = {name: getattr(order, name) for name in _ORDER_FIELDS}
    values["status"] = order.status.value
    return values

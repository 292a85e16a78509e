"""The PostgreSQL store of the simulation core: rows in, the core's decisions back out.

`RowBook` builds a `VenueBook` from the rows a transaction loaded (and locked), lets the core
work on it, then `persist()` writes everything back in the same transaction, in one
statement: the changed fields of the loaded accounts, positions and orders, the new orders
and positions, and the journal's fills and ledger rows, each as one data-modifying `WITH`
part over arrays (`unnest`). A funding settlement is its own statement (it must see how many
rows it inserted). One round trip instead of one per table: on a market order that is five
statements fewer, and the ORM's unit of work (which cost more than the database) is gone.

Rows come in two forms: ORM objects (the venue's advance loads them) or plain values read by
one statement (`place_order`). ORM objects are brought up to date after the write without
being marked dirty, so the session never writes them a second time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.enums import OrderSide, OrderStatus, OrderType
from db.models.paper import PaperAccount, PaperFundingSettlement, PaperOrder, PaperPosition
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


@dataclass(frozen=True, slots=True)
class _Part:
    """One data-modifying part of the persist statement: SQL over `unnest` of its columns."""

    sql: str
    columns: tuple[tuple[str, str], ...]  # (column, SQL array type)


def _unnest(name: str, columns: tuple[tuple[str, str], ...]) -> str:
    arrays = ", ".join(f"CAST(:{name}_{column} AS {kind}[])" for column, kind in columns)
    return f"unnest({arrays}) AS v({', '.join(column for column, _ in columns)})"


def _update(table: str, key: tuple[str, str], fields: tuple[tuple[str, str], ...]) -> _Part:
    # Table and column names are this module's constants; every value is a bound array.
    assignments = ", ".join(f"{column} = v.{column}" for column, _ in fields)
    sql = f"UPDATE {table} AS t SET {assignments} FROM {{unnest}} WHERE t.{key[0]} = v.{key[0]}"  # noqa: S608
    return _Part(sql, (key, *fields))


def _insert(table: str, fields: tuple[tuple[str, str], ...]) -> _Part:
    names = ", ".join(column for column, _ in fields)
    return _Part(f"INSERT INTO {table} ({names}) SELECT * FROM {{unnest}}", fields)  # noqa: S608


_HOLDING_TYPES = (
    ("qty", "numeric"),
    ("entry_price", "numeric"),
    ("margin", "numeric"),
    ("realized_pnl", "numeric"),
    ("funding_pnl", "numeric"),
    ("updated_at", "timestamptz"),
)
_ORDER_TYPES = (
    ("status", "varchar"),
    ("filled_qty", "numeric"),
    ("avg_fill_price", "numeric"),
    ("fee", "numeric"),
    ("reserved_margin", "numeric"),
    ("detail", "text"),
    ("updated_at", "timestamptz"),
)
_ACCOUNTS = _update("paper_accounts", ("id", "bigint"), (("collateral", "numeric"),))
_POSITIONS = _update("paper_positions", ("id", "bigint"), _HOLDING_TYPES)
_ORDERS = _update("paper_orders", ("id", "uuid"), _ORDER_TYPES)
_NEW_POSITIONS = _insert(
    "paper_positions",
    (("venue", "varchar"), ("account_id", "bigint"), ("symbol", "varchar"), *_HOLDING_TYPES),
)
_NEW_ORDERS = _insert(
    "paper_orders",
    (
        ("id", "uuid"),
        ("venue", "varchar"),
        ("account_id", "bigint"),
        ("client_order_id", "varchar"),
        ("symbol", "varchar"),
        ("side", "varchar"),
        ("order_type", "varchar"),
        ("quantity", "numeric"),
        ("price", "numeric"),
        ("reduce_only", "boolean"),
        ("post_only", "boolean"),
        ("leverage", "numeric"),
        ("maker_fee_rate", "numeric"),
        ("placed_at", "timestamptz"),
        *_ORDER_TYPES,
    ),
)
_FILLS = _insert(
    "paper_fills",
    (
        ("venue", "varchar"),
        ("account_id", "bigint"),
        ("order_id", "uuid"),
        ("symbol", "varchar"),
        ("side", "varchar"),
        ("qty", "numeric"),
        ("price", "numeric"),
        ("fee", "numeric"),
        ("liquidity", "varchar"),
        ("filled_at", "timestamptz"),
    ),
)
_LEDGER = _insert(
    "paper_ledger",
    (
        ("venue", "varchar"),
        ("account_id", "bigint"),
        ("kind", "varchar"),
        ("amount", "numeric"),
        ("symbol", "varchar"),
        ("reference", "varchar"),
        ("occurred_at", "timestamptz"),
    ),
)


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


State = TypeVar("State")
Row = TypeVar("Row")
Key = TypeVar("Key")


@dataclass(slots=True)
class _Loaded(Generic[State, Row, Key]):
    """A state the core works on, the row it came from (ORM object or None) and its key and
    values as loaded (to send only what changed)."""

    state: State
    key: Key
    loaded: tuple[object, ...]
    row: Row | None


class RowBook:
    """A `VenueBook` over rows of one session, and the way back to them."""

    def __init__(self, session: Session, venue: str) -> None:
        self.session = session
        self.book = VenueBook(venue)
        self._accounts: list[_Loaded[AccountState, PaperAccount, int]] = []
        self._holdings: list[_Loaded[Holding, PaperPosition, int]] = []
        self._orders: list[_Loaded[OrderState, PaperOrder, uuid.UUID]] = []

    def account(self, row: PaperAccount) -> AccountState:
        return self.account_values(row.id, row.account, row.collateral, row)

    def account_values(
        self, key: int, name: str, collateral: Decimal, row: PaperAccount | None = None
    ) -> AccountState:
        """An account read as plain values (`row`: the ORM object, if it was loaded so)."""
        state = self.book.add_account(AccountState(key, name, collateral))
        self._accounts.append(_Loaded(state, key, (collateral,), row))
        return state

    def holding(self, row: PaperPosition) -> Holding:
        return self.holding_values(row.id, holding_state(row), row)

    def holding_values(
        self, key: int, holding: Holding, row: PaperPosition | None = None
    ) -> Holding:
        """A position read as plain values; `key` is its row id."""
        state = self.book.add_holding(holding)
        self._holdings.append(_Loaded(state, key, _holding_values(state), row))
        return state

    def order(self, row: PaperOrder) -> OrderState:
        state = self.book.add_order(order_state(row))
        self._orders.append(_Loaded(state, row.id, _order_values(state), row))
        return state

    def persist(self) -> None:
        """Write the core's changes and new facts into the session's transaction."""
        venue = self.book.venue
        journal = self.book.journal
        accounts = [a for a in self._accounts if (a.state.collateral,) != a.loaded]
        holdings = [h for h in self._holdings if _holding_values(h.state) != h.loaded]
        orders = [o for o in self._orders if _order_values(o.state) != o.loaded]
        parts: list[tuple[str, _Part, list[tuple[object, ...]]]] = [
            ("acc", _ACCOUNTS, [(a.key, a.state.collateral) for a in accounts]),
            ("pos", _POSITIONS, [(h.key, *_holding_values(h.state)) for h in holdings]),
            ("ord", _ORDERS, [(o.key, *_order_values(o.state)) for o in orders]),
            (
                "newpos",
                _NEW_POSITIONS,
                [(venue, h.account, h.symbol, *_holding_values(h)) for h in journal.new_holdings],
            ),
            ("neword", _NEW_ORDERS, [_new_order_values(venue, o) for o in journal.new_orders]),
            (
                "fills",
                _FILLS,
                [
                    (
                        venue,
                        f.account,
                        f.order_id,
                        f.symbol,
                        f.side.value,
                        f.qty,
                        f.price,
                        f.fee,
                        f.liquidity.value,
                        f.filled_at,
                    )
                    for f in journal.fills
                ],
            ),
            (
                "ledger",
                _LEDGER,
                [
                    (
                        venue,
                        e.account,
                        e.kind.value,
                        e.amount,
                        e.symbol,
                        e.reference,
                        e.occurred_at,
                    )
                    for e in journal.ledger
                ],
            ),
        ]
        _execute(self.session, [(name, part, rows) for name, part, rows in parts if rows])
        for account in accounts:
            if account.row is not None:
                set_committed_value(account.row, "collateral", account.state.collateral)
        for holding in holdings:
            if holding.row is not None:
                for name in _HOLDING_FIELDS:
                    set_committed_value(holding.row, name, getattr(holding.state, name))
        for order in orders:
            if order.row is not None:
                for name, value in zip(_ORDER_FIELDS, _order_values(order.state), strict=True):
                    set_committed_value(order.row, name, value)
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


def _execute(
    session: Session, parts: Sequence[tuple[str, _Part, list[tuple[object, ...]]]]
) -> None:
    """All parts as one statement. Data-modifying `WITH` parts all run, to completion, in one
    snapshot; foreign keys (a fill's order) are checked at the statement's end, when the new
    order is there."""
    if not parts:
        return
    session.flush()  # ORM changes made earlier in the transaction go first (text never flushes)
    params: dict[str, object] = {}
    ctes = []
    for name, part, rows in parts:
        ctes.append(f"{name} AS ({part.sql.format(unnest=_unnest(name, part.columns))})")
        for index, (column, _) in enumerate(part.columns):
            params[f"{name}_{column}"] = [row[index] for row in rows]
    session.execute(text(f"WITH {', '.join(ctes)} SELECT 1"), params)


def _holding_values(holding: Holding) -> tuple[object, ...]:
    return tuple(getattr(holding, name) for name in _HOLDING_FIELDS)


def _order_values(order: OrderState) -> tuple[object, ...]:
    """The fields of an order that change after it is placed, as the row holds them."""
    return (
        order.status.value,
        order.filled_qty,
        order.avg_fill_price,
        order.fee,
        order.reserved_margin,
        order.detail,
        order.updated_at,
    )


def _new_order_values(venue: str, order: OrderState) -> tuple[object, ...]:
    return (
        order.id,
        venue,
        order.account,
        order.client_order_id,
        order.symbol,
        order.side.value,
        order.order_type.value,
        order.quantity,
        order.price,
        order.reduce_only,
        order.post_only,
        order.leverage,
        order.maker_fee_rate,
        order.placed_at,
        *_order_values(order),
    )

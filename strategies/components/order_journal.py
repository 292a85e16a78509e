"""The order journal: every order is recorded (intent) before a venue sees it.

`PostgresOrderJournal` keeps the journal in `orders`; `InMemoryOrderJournal` is its twin for
tests and backtests. Both refuse a second, different order under a client id already used
(`OrderIntentConflictError`): the same intent recorded again returns the existing record, so
a retried task can never create a second order.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.enums import TERMINAL_ORDER_STATUSES, OrderSide, OrderStatus, OrderType
from core.errors import PerpbotError
from db.models import Order
from exchanges.base import OrderRequest, VenueOrder
from strategies.components.sessions import SessionScope


class OrderIntentConflictError(PerpbotError):
    """A client order id is already recorded for a different order."""


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """An order a strategy wants, with the client id that makes it idempotent."""

    client_order_id: str
    strategy_name: str
    venue: str
    symbol: str
    side: OrderSide
    order_type: OrderType
    quantity: Decimal
    purpose: str
    price: Decimal | None = None
    reduce_only: bool = False
    post_only: bool = False
    position_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        if not self.client_order_id or len(self.client_order_id) > 64:
            raise ValueError(f"client_order_id must be 1-64 characters: {self.client_order_id!r}")
        if self.quantity <= 0:
            raise ValueError(f"{self.client_order_id}: quantity must be positive: {self.quantity}")
        if self.order_type is OrderType.LIMIT and (self.price is None or self.price <= 0):
            raise ValueError(f"{self.client_order_id}: a limit order needs a positive price")

    def request(self) -> OrderRequest:
        return OrderRequest(
            client_order_id=self.client_order_id,
            symbol=self.symbol,
            side=self.side,
            order_type=self.order_type,
            quantity=self.quantity,
            price=self.price,
            reduce_only=self.reduce_only,
            post_only=self.post_only,
        )

    def _identity(self) -> tuple[object, ...]:
        return (
            self.venue,
            self.symbol,
            self.side,
            self.order_type,
            self.quantity,
            self.price,
            self.reduce_only,
        )


@dataclass(frozen=True, slots=True)
class OrderRecord:
    intent: OrderIntent
    status: OrderStatus
    filled_qty: Decimal = Decimal(0)
    avg_fill_price: Decimal | None = None
    fee_usd: Decimal = Decimal(0)
    venue_order_id: str | None = None
    error: str | None = None

    @property
    def client_order_id(self) -> str:
        return self.intent.client_order_id

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_ORDER_STATUSES

    @property
    def remaining_qty(self) -> Decimal:
        return self.intent.quantity - self.filled_qty


@runtime_checkable
class OrderJournal(Protocol):
    def record_intent(self, intent: OrderIntent) -> OrderRecord:
        """Store the intent (status INTENT); the same intent again returns the stored record."""
        ...

    def get(self, client_order_id: str) -> OrderRecord | None: ...

    def set_status(
        self, client_order_id: str, status: OrderStatus, error: str | None = None
    ) -> OrderRecord: ...

    def record_venue_state(self, order: VenueOrder) -> OrderRecord:
        """Copy what the venue says (status, fills, fee, venue id) onto the record."""
        ...

    def find(
        self,
        strategy_name: str,
        statuses: Sequence[OrderStatus] | None = None,
        position_id: uuid.UUID | None = None,
        purpose: str | None = None,
    ) -> list[OrderRecord]: ...


def _check_same(existing: OrderIntent, intent: OrderIntent) -> None:
    if existing._identity() != intent._identity():
        raise OrderIntentConflictError(
            f"client order id {intent.client_order_id!r} is already used for a different order "
            f"({existing.side} {existing.quantity} {existing.symbol} on {existing.venue})"
        )


class InMemoryOrderJournal:
    def __init__(self) -> None:
        self._records: dict[str, OrderRecord] = {}
        self._lock = threading.Lock()

    def record_intent(self, intent: OrderIntent) -> OrderRecord:
        with self._lock:
            existing = self._records.get(intent.client_order_id)
            if existing is not None:
                _check_same(existing.intent, intent)
                return existing
            record = OrderRecord(intent=intent, status=OrderStatus.INTENT)
            self._records[intent.client_order_id] = record
            return record

    def get(self, client_order_id: str) -> OrderRecord | None:
        with self._lock:
            return self._records.get(client_order_id)

    def set_status(
        self, client_order_id: str, status: OrderStatus, error: str | None = None
    ) -> OrderRecord:
        with self._lock:
            record = replace(self._require(client_order_id), status=status, error=error)
            self._records[client_order_id] = record
            return record

    def record_venue_state(self, order: VenueOrder) -> OrderRecord:
        with self._lock:
            record = replace(
                self._require(order.client_order_id),
                status=order.status,
                filled_qty=order.filled_qty,
                avg_fill_price=order.avg_fill_price,
                fee_usd=order.fee,
                venue_order_id=order.venue_order_id,
                error=None,
            )
            self._records[order.client_order_id] = record
            return record

    def find(
        self,
        strategy_name: str,
        statuses: Sequence[OrderStatus] | None = None,
        position_id: uuid.UUID | None = None,
        purpose: str | None = None,
    ) -> list[OrderRecord]:
        with self._lock:
            return [
                r
                for r in self._records.values()
                if r.intent.strategy_name == strategy_name
                and (statuses is None or r.status in statuses)
                and (position_id is None or r.intent.position_id == position_id)
                and (purpose is None or r.intent.purpose == purpose)
            ]

    def _require(self, client_order_id: str) -> OrderRecord:
        record = self._records.get(client_order_id)
        if record is None:
            raise KeyError(f"no order with client id {client_order_id!r}")
        return record


def _to_record(row: Order) -> OrderRecord:
    intent = OrderIntent(
        client_order_id=row.client_order_id,
        strategy_name=row.strategy_name,
        venue=row.venue,
        symbol=row.symbol,
        side=OrderSide(row.side),
        order_type=OrderType(row.order_type),
        quantity=row.quantity,
        purpose=row.purpose,
        price=row.price,
        reduce_only=row.reduce_only,
        position_id=row.position_id,
    )
    return OrderRecord(
        intent=intent,
        status=OrderStatus(row.status),
        filled_qty=row.filled_qty,
        avg_fill_price=row.avg_fill_price,
        fee_usd=row.fee_usd,
        venue_order_id=row.venue_order_id,
        error=row.error,
    )


class PostgresOrderJournal:
    """The journal in `orders`; each call is its own transaction (committed before sending)."""

    def __init__(self, scope: SessionScope) -> None:
        self._scope = scope

    def record_intent(self, intent: OrderIntent) -> OrderRecord:
        with self._scope() as session:
            session.execute(
                insert(Order)
                .values(
                    id=uuid.uuid4(),
                    client_order_id=intent.client_order_id,
                    strategy_name=intent.strategy_name,
                    position_id=intent.position_id,
                    venue=intent.venue,
                    symbol=intent.symbol,
                    side=intent.side.value,
                    order_type=intent.order_type.value,
                    quantity=intent.quantity,
                    price=intent.price,
                    reduce_only=intent.reduce_only,
                    purpose=intent.purpose,
                    status=OrderStatus.INTENT.value,
                )
                .on_conflict_do_nothing(index_elements=["client_order_id"])
            )
            row = session.scalars(
                select(Order).where(Order.client_order_id == intent.client_order_id)
            ).one()
            record = _to_record(row)
        _check_same(record.intent, intent)
        return record

    def get(self, client_order_id: str) -> OrderRecord | None:
        with self._scope() as session:
            row = session.scalars(
                select(Order).where(Order.client_order_id == client_order_id)
            ).one_or_none()
            return _to_record(row) if row is not None else None

    def set_status(
        self, client_order_id: str, status: OrderStatus, error: str | None = None
    ) -> OrderRecord:
        with self._scope() as session:
            row = self._locked(session, client_order_id)
            row.status = status.value
            row.error = error
            if status is OrderStatus.SENT:
                row.sent_at = datetime.now(UTC)
            session.flush()
            return _to_record(row)

    def record_venue_state(self, order: VenueOrder) -> OrderRecord:
        with self._scope() as session:
            row = self._locked(session, order.client_order_id)
            row.status = order.status.value
            row.filled_qty = order.filled_qty
            row.avg_fill_price = order.avg_fill_price
            row.fee_usd = order.fee
            row.venue_order_id = order.venue_order_id
            row.error = None
            session.flush()
            return _to_record(row)

    def find(
        self,
        strategy_name: str,
        statuses: Sequence[OrderStatus] | None = None,
        position_id: uuid.UUID | None = None,
        purpose: str | None = None,
    ) -> list[OrderRecord]:
        query = select(Order).where(Order.strategy_name == strategy_name)
        if statuses is not None:
            query = query.where(Order.status.in_([s.value for s in statuses]))
        if position_id is not None:
            query = query.where(Order.position_id == position_id)
        if purpose is not None:
            query = query.where(Order.purpose == purpose)
        with self._scope() as session:
            return [_to_record(r) for r in session.scalars(query.order_by(Order.created_at))]

    @staticmethod
    def _locked(session: Session, client_order_id: str) -> Order:
        row = session.scalars(
            select(Order).where(Order.client_order_id == client_order_id).with_for_update()
        ).one_or_none()
        if row is None:
            raise KeyError(f"no order with client id {client_order_id!r}")
        return row

"""The order journal: every order is recorded (intent) before a venue sees it.

`PostgresOrderJournal` keeps the journal in `orders`; `InMemoryOrderJournal` is its twin for
tests and backtests. Both refuse a second, different order under a client id already used
(`OrderIntentConflictError`): the same intent recorded again returns the existing record, so
a retried task can never create a second order. Beside our client id each record keeps the
venue's form of it (`venue_ids`, from the venue clients): unique per venue, so an intent
whose venue id another intent already holds is refused before anything is sent.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.clock import Clock
from core.enums import OrderSide, OrderStatus, OrderType
from db.models import Order
from exchanges.base import VenueOrder
from strategies.components.order_types import (
    OrderIntent,
    OrderIntentConflictError,
    OrderJournal,
    OrderRecord,
    VenueIdResolver,
    same_ids,
)
from strategies.components.sessions import SessionScope

__all__ = [
    "InMemoryOrderJournal",
    "OrderIntent",
    "OrderIntentConflictError",
    "OrderJournal",
    "OrderRecord",
    "PostgresOrderJournal",
]


def _venue_id_taken(intent: OrderIntent, venue_id: str, holder: str) -> OrderIntentConflictError:
    return OrderIntentConflictError(
        f"{intent.venue} client id {venue_id!r} of {intent.client_order_id!r} is already "
        f"held by {holder!r}: the venue could not tell the two orders apart"
    )


def _check_same(existing: OrderIntent, intent: OrderIntent) -> None:
    if existing._identity() != intent._identity():
        raise OrderIntentConflictError(
            f"client order id {intent.client_order_id!r} is already used for a different order "
            f"({existing.side} {existing.quantity} {existing.symbol} on {existing.venue})"
        )


class InMemoryOrderJournal:
    def __init__(self, venue_ids: VenueIdResolver = same_ids) -> None:
        self._records: dict[str, OrderRecord] = {}
        self._venue_ids = venue_ids
        self._holders: dict[tuple[str, str], str] = {}
        # Client ids per position, in insertion order: a backtest's year holds thousands of
        # orders and the strategy asks for one position's at a time.
        self._by_position: dict[uuid.UUID, list[str]] = {}
        self._lock = threading.Lock()

    def record_intent(self, intent: OrderIntent) -> OrderRecord:
        venue_id = self._venue_ids(intent.venue, intent.client_order_id)
        with self._lock:
            existing = self._records.get(intent.client_order_id)
            if existing is not None:
                _check_same(existing.intent, intent)
                return existing
            holder = self._holders.get((intent.venue, venue_id))
            if holder is not None:
                raise _venue_id_taken(intent, venue_id, holder)
            record = OrderRecord(
                intent=intent, status=OrderStatus.INTENT, venue_client_order_id=venue_id
            )
            self._records[intent.client_order_id] = record
            self._holders[(intent.venue, venue_id)] = intent.client_order_id
            if intent.position_id is not None:
                self._by_position.setdefault(intent.position_id, []).append(intent.client_order_id)
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
            records: Iterable[OrderRecord] = (
                self._records.values()
                if position_id is None
                else [self._records[c] for c in self._by_position.get(position_id, [])]
            )
            return [
                r
                for r in records
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
        venue_client_order_id=row.venue_client_order_id,
    )


class PostgresOrderJournal:
    """The journal in `orders`; each call is its own transaction (committed before sending).
    `sent_at` comes from `clock`."""

    def __init__(
        self, scope: SessionScope, clock: Clock, venue_ids: VenueIdResolver = same_ids
    ) -> None:
        self._scope = scope
        self._clock = clock
        self._venue_ids = venue_ids

    def record_intent(self, intent: OrderIntent) -> OrderRecord:
        venue_id = self._venue_ids(intent.venue, intent.client_order_id)
        with self._scope() as session:
            session.execute(
                insert(Order)
                .values(
                    id=uuid.uuid4(),
                    client_order_id=intent.client_order_id,
                    venue_client_order_id=venue_id,
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
                .on_conflict_do_nothing()  # our id (the same intent again) or the venue's
            )
            row = session.scalars(
                select(Order).where(Order.client_order_id == intent.client_order_id)
            ).one_or_none()
            if row is None:
                holder = session.scalars(
                    select(Order.client_order_id).where(
                        Order.venue == intent.venue, Order.venue_client_order_id == venue_id
                    )
                ).one()
                raise _venue_id_taken(intent, venue_id, holder)
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
                row.sent_at = self._clock.now()
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

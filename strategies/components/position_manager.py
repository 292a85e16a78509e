"""Position backends: `PostgresPositionManager` (`strategy_positions` + `events`) and
`InMemoryPositionManager`, one contract (see `PositionManager` in base_components).

Both run every request through `position_rules` before touching storage, so they accept,
refuse and round values identically. Times come from the injected clock (a backtest's
simulated time, not the server's); each change bumps `version` and appends one audit event
in the same transaction.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.clock import Clock
from core.enums import ACTIVE_POSITION_STATUSES, PositionOperation, PositionStatus
from db.models import StrategyPosition
from db.repositories import EventRepository
from strategies.components.base_components import (
    AuditEvent,
    NewPosition,
    PositionNotFoundError,
    PositionRecord,
    PositionUpdate,
)
from strategies.components.event_sink import InMemoryEventSink, append_event, audit_event_from_row
from strategies.components.position_rules import (
    ENTITY_TYPE,
    PlannedChange,
    Planner,
    active_exists_error,
    check_new_position,
    check_version,
    opened_payload,
    opening_operation,
    plan_transition,
    plan_update,
    zero_money,
)
from strategies.components.sessions import SessionScope

ACTIVE_PAIR_INDEX = "uq_strategy_positions_active_pair"


class _PositionChanges(ABC):
    """The change operations, identical in both backends: each plans the new record with
    `position_rules` and hands the plan to the backend's own `_change`."""

    _clock: Clock

    @abstractmethod
    def _change(
        self, position_id: uuid.UUID, expected_version: int | None, plan: Planner
    ) -> PositionRecord: ...

    def update(
        self, position_id: uuid.UUID, changes: PositionUpdate, expected_version: int | None = None
    ) -> PositionRecord:
        return self._change(
            position_id, expected_version, lambda record: plan_update(record, changes)
        )

    def mark_status(
        self,
        position_id: uuid.UUID,
        status: PositionStatus,
        reason: str | None = None,
        expected_version: int | None = None,
        operation: PositionOperation | None = None,
    ) -> PositionRecord:
        now = self._clock.now()
        return self._change(
            position_id,
            expected_version,
            lambda r: plan_transition(r, status, reason, now, operation=operation),
        )

    def close(
        self,
        position_id: uuid.UUID,
        reason: str,
        realized_pnl_usd: Decimal,
        expected_version: int | None = None,
    ) -> PositionRecord:
        now = self._clock.now()
        return self._change(
            position_id,
            expected_version,
            lambda r: plan_transition(r, PositionStatus.CLOSED, reason, now, realized_pnl_usd),
        )


# ---------------------------------------------------------------- PostgreSQL


def _stored(value: Any) -> Any:
    """Enums are stored as their values."""
    return value.value if isinstance(value, StrEnum) else value


def record_from_row(row: StrategyPosition) -> PositionRecord:
    values = {spec.name: getattr(row, spec.name) for spec in fields(PositionRecord)}
    values["status"] = PositionStatus(row.status)
    values["operation"] = None if row.operation is None else PositionOperation(row.operation)
    return PositionRecord(**values)


class PostgresPositionManager(_PositionChanges):
    """`strategy_positions` rows; each call is one transaction that also appends its event."""

    def __init__(self, session_scope: SessionScope, clock: Clock) -> None:
        self._scope = session_scope
        self._clock = clock

    def open(self, position: NewPosition) -> PositionRecord:
        position = check_new_position(position)
        now = self._clock.now()
        try:
            with self._scope() as session:
                existing = self._active_id(session, position)
                if existing is not None:
                    raise active_exists_error(position, existing)
                row = StrategyPosition(
                    id=uuid.uuid4(),
                    strategy_name=position.strategy_name,
                    symbol=position.symbol,
                    long_dex=position.long_dex,
                    short_dex=position.short_dex,
                    size_usd=position.size_usd,
                    entry_divergence=position.entry_divergence,
                    status=position.status.value,
                    operation=_stored(opening_operation(position)),
                    opened_at=now if position.status == PositionStatus.OPEN else None,
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
                session.flush()
                self._event(session, row, "position.opened", opened_payload(position))
                session.flush()
                session.refresh(row)
                return record_from_row(row)
        except IntegrityError as exc:
            # A concurrent open won the race between our check and our insert.
            constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
            if constraint != ACTIVE_PAIR_INDEX:
                raise
            with self._scope() as session:
                raise active_exists_error(position, self._active_id(session, position)) from None

    def get(self, position_id: uuid.UUID) -> PositionRecord | None:
        with self._scope() as session:
            row = session.get(StrategyPosition, position_id, populate_existing=True)
            return None if row is None else record_from_row(row)

    def find(
        self,
        strategy_name: str | None = None,
        statuses: Sequence[PositionStatus] | None = None,
        symbol: str | None = None,
    ) -> list[PositionRecord]:
        query = select(StrategyPosition).order_by(StrategyPosition.created_at, StrategyPosition.id)
        if strategy_name is not None:
            query = query.where(StrategyPosition.strategy_name == strategy_name)
        if statuses is not None:
            query = query.where(
                StrategyPosition.status.in_([PositionStatus(s).value for s in statuses])
            )
        if symbol is not None:
            query = query.where(StrategyPosition.symbol == symbol)
        with self._scope() as session:
            return [record_from_row(row) for row in session.scalars(query)]

    def find_active(self, strategy_name: str, symbol: str | None = None) -> list[PositionRecord]:
        return self.find(strategy_name, ACTIVE_POSITION_STATUSES, symbol)

    def history(self, position_id: uuid.UUID) -> list[AuditEvent]:
        with self._scope() as session:
            rows = EventRepository(session).for_entity(ENTITY_TYPE, position_id)
            return [audit_event_from_row(row) for row in rows]

    # -- internals

    def _change(
        self, position_id: uuid.UUID, expected_version: int | None, plan: Planner
    ) -> PositionRecord:
        with self._scope() as session:
            # populate_existing: a shared session (savepoint scope) must not serve a stale copy.
            row = session.get(
                StrategyPosition, position_id, with_for_update=True, populate_existing=True
            )
            if row is None:
                raise PositionNotFoundError(f"no position with id {position_id}")
            record = record_from_row(row)
            check_version(record, expected_version)
            change: PlannedChange | None = plan(record)
            if change is None:
                return record
            for name, value in change.values.items():
                setattr(row, name, _stored(value))
            row.updated_at = self._clock.now()
            session.flush()  # bumps `version` (the mapper's version counter)
            self._event(session, row, change.event_kind, change.payload)
            session.flush()
            session.refresh(row)  # the record is what the database holds, to the digit
            return record_from_row(row)

    def _event(
        self, session: Session, row: StrategyPosition, kind: str, payload: dict[str, Any]
    ) -> None:
        append_event(
            session,
            self._clock.now(),
            kind,
            ENTITY_TYPE,
            row.id,
            row.strategy_name,
            {**payload, "version": row.version},
        )

    @staticmethod
    def _active_id(session: Session, position: NewPosition) -> uuid.UUID | None:
        return session.scalars(
            select(StrategyPosition.id).where(
                StrategyPosition.strategy_name == position.strategy_name,
                StrategyPosition.symbol == position.symbol,
                StrategyPosition.long_dex.is_not_distinct_from(position.long_dex),
                StrategyPosition.short_dex.is_not_distinct_from(position.short_dex),
                StrategyPosition.status.in_([s.value for s in ACTIVE_POSITION_STATUSES]),
            )
        ).first()


# ---------------------------------------------------------------- in memory


def sequential_ids(seed: str) -> Callable[[], uuid.UUID]:
    """Ids that sort in the order they are made: the seed's digest, then a counter."""
    high = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") << 64
    counter = itertools.count(1)
    return lambda: uuid.UUID(int=high | next(counter))


class InMemoryPositionManager(_PositionChanges):
    """The same contract in a dict (tests, backtests). Thread-safe.

    Events go to `events` (an `InMemoryEventSink`, shared with the strategy's own sink when
    the factory wires one), as the PostgreSQL backend writes them to the `events` table.
    """

    def __init__(
        self,
        clock: Clock,
        events: InMemoryEventSink | None = None,
        new_id: Callable[[], uuid.UUID] = uuid.uuid4,
    ) -> None:
        self._clock = clock
        self._events = events if events is not None else InMemoryEventSink(clock)
        # Positions opened in one cycle share `created_at` and are listed by id after it, so
        # a backtest passes `sequential_ids` to list them in the order they were opened and
        # run the same way every time (random ids would reorder them run to run).
        self._new_id = new_id
        self._positions: dict[uuid.UUID, PositionRecord] = {}
        # Ids by status: a backtest's year holds thousands of closed positions, and the
        # strategy asks for the active (and the failed) ones every phase.
        self._by_status: dict[PositionStatus, dict[uuid.UUID, None]] = {
            status: {} for status in PositionStatus
        }
        self._lock = threading.Lock()

    def _store(self, record: PositionRecord) -> None:
        previous = self._positions.get(record.id)
        if previous is not None:
            self._by_status[previous.status].pop(record.id, None)
        self._positions[record.id] = record
        self._by_status[record.status][record.id] = None

    def open(self, position: NewPosition) -> PositionRecord:
        position = check_new_position(position)
        now = self._clock.now()
        with self._lock:
            for record in self._with_status(ACTIVE_POSITION_STATUSES):
                if (
                    record.strategy_name,
                    record.symbol,
                    record.long_dex,
                    record.short_dex,
                ) == (
                    position.strategy_name,
                    position.symbol,
                    position.long_dex,
                    position.short_dex,
                ):
                    raise active_exists_error(position, record.id)
            zero = zero_money()
            record = PositionRecord(
                id=self._new_id(),
                strategy_name=position.strategy_name,
                symbol=position.symbol,
                long_dex=position.long_dex,
                short_dex=position.short_dex,
                size_usd=position.size_usd,
                long_qty=zero,
                short_qty=zero,
                long_entry_price=None,
                short_entry_price=None,
                entry_divergence=position.entry_divergence,
                current_divergence=None,
                long_funding_usd=zero,
                short_funding_usd=zero,
                fees_usd=zero,
                realized_pnl_usd=zero,
                unrealized_pnl_usd=zero,
                status=position.status,
                close_reason=None,
                operation=opening_operation(position),
                operation_reason=None,
                close_failed_at=None,
                opened_at=now if position.status == PositionStatus.OPEN else None,
                closed_at=None,
                last_monitored_at=None,
                created_at=now,
                updated_at=now,
                version=1,
            )
            self._store(record)
            self._event(record, "position.opened", opened_payload(position))
            return record

    def get(self, position_id: uuid.UUID) -> PositionRecord | None:
        with self._lock:
            return self._positions.get(position_id)

    def find(
        self,
        strategy_name: str | None = None,
        statuses: Sequence[PositionStatus] | None = None,
        symbol: str | None = None,
    ) -> list[PositionRecord]:
        with self._lock:
            candidates: Iterable[PositionRecord] = (
                self._positions.values() if statuses is None else self._with_status(statuses)
            )
            matching = [
                r
                for r in candidates
                if (strategy_name is None or r.strategy_name == strategy_name)
                and (symbol is None or r.symbol == symbol)
            ]
        return sorted(matching, key=lambda r: (r.created_at, r.id))

    def _with_status(self, statuses: Iterable[PositionStatus]) -> list[PositionRecord]:
        # By value: a status may come as its text; each status once, in a fixed order.
        wanted = dict.fromkeys(PositionStatus(s) for s in statuses)
        return [self._positions[i] for s in wanted for i in self._by_status[s]]

    def find_active(self, strategy_name: str, symbol: str | None = None) -> list[PositionRecord]:
        return self.find(strategy_name, ACTIVE_POSITION_STATUSES, symbol)

    def history(self, position_id: uuid.UUID) -> list[AuditEvent]:
        return self._events.for_entity(ENTITY_TYPE, position_id)

    # -- internals

    def _change(
        self, position_id: uuid.UUID, expected_version: int | None, plan: Planner
    ) -> PositionRecord:
        with self._lock:
            record = self._positions.get(position_id)
            if record is None:
                raise PositionNotFoundError(f"no position with id {position_id}")
            check_version(record, expected_version)
            change: PlannedChange | None = plan(record)
            if change is None:
                return record
            updated = replace(
                record, **change.values, updated_at=self._clock.now(), version=record.version + 1
            )
            self._store(updated)
            self._event(updated, change.event_kind, change.payload)
            return updated

    def _event(self, record: PositionRecord, kind: str, payload: dict[str, Any]) -> None:
        self._events.record(
            kind,
            ENTITY_TYPE,
            record.id,
            record.strategy_name,
            {**payload, "version": record.version},
        )

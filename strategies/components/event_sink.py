"""Audit-trail backends for the `EventSink` interface: PostgreSQL (`events`) and in-memory."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from core.clock import Clock
from db.models import Event
from db.repositories import EventRepository
from strategies.components.base_components import AuditEvent
from strategies.components.sessions import SessionScope


def audit_payload(value: Any) -> Any:
    """Plain JSON for the audit log: Decimal and UUID as strings, times as ISO-8601.

    Audit payloads are read by people and dashboards, so values are plain strings rather
    than the tagged form the state manager uses to restore types.
    """
    # The exact common types first (a backtest records tens of thousands of payloads; the
    # checks below go through the ABCs); subclasses such as enums take the general path.
    kind = type(value)
    if value is None or kind is str or kind is int or kind is float or kind is bool:
        return value
    if kind is Decimal or kind is uuid.UUID:
        return str(value)
    if kind is dict:
        return {str(key): audit_payload(item) for key, item in value.items()}
    if kind is datetime:
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): audit_payload(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [audit_payload(item) for item in value]
    if isinstance(value, Enum):
        return audit_payload(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"audit payload: {type(value).__name__} is not JSON-serializable")


_RESERVED_PAYLOAD_KEYS = frozenset(
    {"kind", "entity_type", "entity_id", "strategy_name", "occurred_at"}
)


def checked_payload(payload: Mapping[str, Any] | None) -> dict[str, Any]:
    """The payload as plain JSON; keys that name event columns are refused."""
    converted: dict[str, Any] = audit_payload(dict(payload or {}))
    clash = sorted(_RESERVED_PAYLOAD_KEYS & converted.keys())
    if clash:
        raise ValueError(f"audit payload: keys {clash} are reserved for the event's columns")
    return converted


def append_event(
    session: Session,
    occurred_at: datetime,
    kind: str,
    entity_type: str,
    entity_id: object | None,
    strategy_name: str | None,
    payload: Mapping[str, Any] | None,
) -> None:
    """Add one `events` row to the session's transaction (the caller commits)."""
    EventRepository(session).append(
        kind,
        entity_type,
        entity_id,
        strategy_name,
        occurred_at=occurred_at,
        **checked_payload(payload),
    )


def audit_event_from_row(row: Event) -> AuditEvent:
    return AuditEvent(
        kind=row.kind,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        strategy_name=row.strategy_name,
        payload=dict(row.payload),
        occurred_at=row.occurred_at,
    )


class PostgresEventSink:
    """Appends to the `events` table, one transaction per event; times come from the clock."""

    def __init__(self, session_scope: SessionScope, clock: Clock) -> None:
        self._scope = session_scope
        self._clock = clock

    def record(
        self,
        kind: str,
        entity_type: str,
        entity_id: object | None = None,
        strategy_name: str | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        checked = checked_payload(payload)
        with self._scope() as session:
            append_event(
                session, self._clock.now(), kind, entity_type, entity_id, strategy_name, checked
            )

    def recent(self, limit: int = 20, strategy_name: str | None = None) -> list[AuditEvent]:
        with self._scope() as session:
            rows = EventRepository(session).recent(limit, strategy_name)
            return [audit_event_from_row(row) for row in rows]


class InMemoryEventSink:
    """The same contract in a list (tests, backtests). Thread-safe."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._events: list[AuditEvent] = []
        self._lock = threading.Lock()

    def record(
        self,
        kind: str,
        entity_type: str,
        entity_id: object | None = None,
        strategy_name: str | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        event = AuditEvent(
            kind=kind,
            entity_type=entity_type,
            entity_id=str(entity_id) if entity_id is not None else None,
            strategy_name=strategy_name,
            payload=checked_payload(payload),
            occurred_at=self._clock.now(),
        )
        with self._lock:
            self._events.append(event)

    def recent(self, limit: int = 20, strategy_name: str | None = None) -> list[AuditEvent]:
        with self._lock:
            matching = [
                e for e in self._events if strategy_name is None or e.strategy_name == strategy_name
            ]
        return list(reversed(matching))[:limit]

    def for_entity(self, entity_type: str, entity_id: object) -> list[AuditEvent]:
        """Events about one entity, oldest first (what `PositionManager.history` returns)."""
        key = str(entity_id)
        with self._lock:
            return [e for e in self._events if e.entity_type == entity_type and e.entity_id == key]

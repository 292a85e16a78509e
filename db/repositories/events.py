"""Append to and read the `events` audit log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Event


def _jsonable(value: Any) -> Any:
    # Decimal and UUID become strings so money keeps every digit in JSONB.
    return json.loads(json.dumps(value, default=str))


def event_values(
    kind: str,
    entity_type: str,
    entity_id: object | None,
    strategy_name: str | None,
    occurred_at: datetime,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """The columns of one `events` row (for a statement that inserts it with other writes)."""
    if occurred_at.tzinfo is None or occurred_at.utcoffset() is None:
        raise ValueError(f"event {kind!r}: occurred_at {occurred_at!r} is not timezone-aware")
    return {
        "occurred_at": occurred_at,
        "kind": kind,
        "entity_type": entity_type,
        "entity_id": str(entity_id) if entity_id is not None else None,
        "strategy_name": strategy_name,
        "payload": _jsonable(payload),
    }


class EventRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def append(
        self,
        kind: str,
        entity_type: str,
        entity_id: object | None = None,
        strategy_name: str | None = None,
        *,
        occurred_at: datetime,
        **payload: Any,
    ) -> Event:
        """Add one event dated `occurred_at`: the caller's clock, never the server's."""
        event = Event(
            **event_values(kind, entity_type, entity_id, strategy_name, occurred_at, payload)
        )
        self._session.add(event)
        return event

    def for_entity(self, entity_type: str, entity_id: object) -> Sequence[Event]:
        return self._session.scalars(
            select(Event)
            .where(Event.entity_type == entity_type, Event.entity_id == str(entity_id))
            .order_by(Event.id)
        ).all()

    def recent(self, limit: int = 20, strategy_name: str | None = None) -> Sequence[Event]:
        query = select(Event).order_by(Event.id.desc()).limit(limit)
        if strategy_name is not None:
            query = query.where(Event.strategy_name == strategy_name)
        return self._session.scalars(query).all()

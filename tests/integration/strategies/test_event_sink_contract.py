"""The audit sink, both backends: ordering, filters, payload conversion, refusals."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from core.enums import PositionStatus
from tests.unit.strategies.fakes import T0


def test_recent_is_newest_first_with_limit_and_strategy_filter(event_sink, clock):
    for n in range(3):
        event_sink.record("tick", "strategy", "arb", "arb", {"n": n})
        clock.advance(timedelta(seconds=1))
    event_sink.record("tick", "strategy", "grid", "grid", {"n": 9})
    assert [e.payload["n"] for e in event_sink.recent()] == [9, 2, 1, 0]
    assert [e.payload["n"] for e in event_sink.recent(limit=2, strategy_name="arb")] == [2, 1]
    newest = event_sink.recent(limit=1)[0]
    assert newest.occurred_at == T0 + timedelta(seconds=3)
    assert (newest.kind, newest.entity_type, newest.entity_id) == ("tick", "strategy", "grid")


def test_payloads_become_plain_json(event_sink):
    ident = uuid.uuid4()
    event_sink.record(
        "decided",
        "position",
        ident,
        "arb",
        {
            "amount": Decimal("1.50"),
            "status": PositionStatus.OPEN,
            "at": T0,
            "legs": ("a", "b"),
            "id": ident,
        },
    )
    (event,) = event_sink.recent()
    assert event.entity_id == str(ident)
    assert event.payload == {
        "amount": "1.50",
        "status": "open",
        "at": "2025-01-01T00:00:00+00:00",
        "legs": ["a", "b"],
        "id": str(ident),
    }


def test_payload_keys_that_name_columns_are_refused(event_sink):
    with pytest.raises(ValueError, match=r"keys \['kind'\] are reserved"):
        event_sink.record("x", "strategy", payload={"kind": "y"})
    with pytest.raises(TypeError, match="object is not JSON-serializable"):
        event_sink.record("x", "strategy", payload={"thing": object()})
    assert event_sink.recent() == []

"""What the grid reads each cycle (`GridSnapshot`) and what it decides (actions, as data).

`decide` returns actions in the order `execute` must carry them out: the new state before
any order (write-ahead: an order is in the state before it is sent, so a crash after sending
is found by its client id), then audit events, cancels, orders, and the position record
(except closing a position record, which goes before the state: see `tracking`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from core.market import Instrument
from strategies.categories.stateless_strategy import Action, MarketSnapshot
from strategies.components.base_components import (
    NewPosition,
    OrderIntent,
    OrderRecord,
    PositionRecord,
    PositionUpdate,
)
from strategies.implementations.grid.models import GridState


@dataclass(frozen=True, slots=True)
class GridSnapshot(MarketSnapshot):
    """The market snapshot plus what the grid remembers and what became of its orders.

    `records` holds the journal's record (refreshed from the venue) of every order the state
    is waiting on; an id missing from it was never journaled. `state` is None before the
    first cycle; `version` is the stored state's version (0: nothing stored).
    """

    instrument: Instrument
    state: GridState | None
    version: int
    records: Mapping[str, OrderRecord]
    position_records: tuple[PositionRecord, ...] = ()
    recovered: bool = False  # `state` was rebuilt from the order journal this cycle


@dataclass(frozen=True, slots=True)
class CommitGridState(Action):
    """Save `state` if the stored version is still `expected_version`."""

    state: GridState
    expected_version: int


@dataclass(frozen=True, slots=True)
class SubmitGridOrder(Action):
    """Place `intent` through the order executor (a repeat turns into a lookup)."""

    intent: OrderIntent


@dataclass(frozen=True, slots=True)
class CancelGridOrder(Action):
    client_order_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class RecordGridEvent(Action):
    kind: str
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OpenPositionRecord(Action):
    """Start tracking the venue position (an existing active record is adopted), then
    write `changes` (quantity and entry) onto it."""

    position: NewPosition
    changes: PositionUpdate


@dataclass(frozen=True, slots=True)
class UpdatePositionRecord(Action):
    position_id: uuid.UUID
    changes: PositionUpdate


@dataclass(frozen=True, slots=True)
class ClosePositionRecord(Action):
    position_id: uuid.UUID
    reason: str
    realized_pnl: Decimal

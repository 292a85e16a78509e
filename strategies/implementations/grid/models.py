"""The grid's data: its persisted state, its client order ids and its vocabularies.

A grid *level* is one round trip: an open order near the mid price, then (once filled) a
reduce-only take-profit order. `GridState` is everything the grid remembers between cycles;
it lives in the state manager (optimistic versioning), never in memory, because every cycle
runs in a fresh strategy instance (a Celery task).

Client order ids are derived from the run, the level and the purpose, e.g.
`grid-1f0c2a9b7d3e-17-t0` (run, level 17, take-profit attempt 0), so a redelivered or
repeated cycle can only ever re-send the same order, which the order executor and the venue
turn into a lookup.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from core.enums import OrderSide
from core.errors import PerpbotError

ZERO = Decimal(0)
_RUN_NAMESPACE = uuid.UUID("0d7c1f8e-5a36-4b8e-9f51-6c2d8e0b4a17")


class GridStateError(PerpbotError):
    """The stored grid state cannot be used (corrupt, or written for another config)."""


class GridDirection(StrEnum):
    LONG = "long"  # opens buy, take-profits sell above the entry
    SHORT = "short"  # opens sell, take-profits buy below the entry

    @property
    def sign(self) -> int:
        return 1 if self is GridDirection.LONG else -1

    @property
    def open_side(self) -> OrderSide:
        return OrderSide.BUY if self is GridDirection.LONG else OrderSide.SELL

    @property
    def close_side(self) -> OrderSide:
        return OrderSide.SELL if self is GridDirection.LONG else OrderSide.BUY


class OnStop(StrEnum):
    KEEP = "keep"  # keep the position and its take-profit orders
    CLOSE = "close"  # cancel the take-profits and close the position at market


class LevelStage(StrEnum):
    OPENING = "opening"  # the open order is placed (or about to be); waiting for its fill
    HOLDING = "holding"  # the open filled; a take-profit order is still to be placed
    CLOSING = "closing"  # the take-profit order is placed (or about to be)


class GridStatus(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"  # by stop_price or the stop loss: no new opens, ever, in this run


class OrderKind(StrEnum):
    OPEN = "o"
    TAKE_PROFIT = "t"
    CLOSE = "x"  # closes the whole position (stop loss, or on_stop: close)

    @property
    def purpose(self) -> str:
        """The journal's `purpose` column (at most 24 characters)."""
        return _PURPOSES[self]


_PURPOSES = {
    OrderKind.OPEN: "grid_open",
    OrderKind.TAKE_PROFIT: "grid_take_profit",
    OrderKind.CLOSE: "grid_close",
}
GRID_PURPOSES = frozenset(_PURPOSES.values())
CLOSE_SEQ = 0  # the close-all order's "level" in its client id; levels start at 1


def run_id_for(strategy_name: str, started_at: datetime) -> str:
    """The id of a grid run: fixed by the strategy's name and the run's first cycle time.

    A new run after the state was reset gets new client ids, so it can never collide with
    the orders of an earlier run in the journal or on the venue.
    """
    return uuid.uuid5(_RUN_NAMESPACE, f"{strategy_name}|{started_at.isoformat()}").hex[:12]


def grid_client_order_id(run_id: str, kind: OrderKind, seq: int, attempt: int = 0) -> str:
    return f"grid-{run_id}-{seq}-{kind.value}{attempt}"


@dataclass(frozen=True, slots=True)
class GridOrderId:
    run_id: str
    seq: int
    kind: OrderKind
    attempt: int


def parse_client_order_id(client_order_id: str) -> GridOrderId | None:
    """The parts of a grid client order id, or None if it is not one."""
    parts = client_order_id.split("-")
    if len(parts) != 4 or parts[0] != "grid" or len(parts[3]) < 2:
        return None
    _, run_id, seq, tail = parts
    try:
        return GridOrderId(run_id, int(seq), OrderKind(tail[0]), int(tail[1:]))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class GridLevel:
    """One round trip. `qty` is what the level holds (filled by its open, not yet closed)."""

    seq: int
    stage: LevelStage
    open_price: Decimal  # the open order's limit price
    open_qty: Decimal  # the open order's quantity
    opened_at: datetime  # when the open order was decided (for open_timeout_seconds)
    post_only: bool = False
    qty: Decimal = ZERO
    entry_price: Decimal | None = None  # average fill price of the open order
    open_fee: Decimal = ZERO  # open fee not yet charged to a realized close
    tp_price: Decimal | None = None  # None with tp_market: a market take-profit (boost)
    tp_market: bool = False
    tp_attempt: int = 0
    # First cycle at which the venue position did not cover this level (see planner).
    uncovered_since: datetime | None = None

    def open_id(self, run_id: str) -> str:
        return grid_client_order_id(run_id, OrderKind.OPEN, self.seq)

    def tp_id(self, run_id: str) -> str:
        return grid_client_order_id(run_id, OrderKind.TAKE_PROFIT, self.seq, self.tp_attempt)

    def to_state(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "stage": self.stage.value,
            "open_price": self.open_price,
            "open_qty": self.open_qty,
            "opened_at": self.opened_at,
            "post_only": self.post_only,
            "qty": self.qty,
            "entry_price": self.entry_price,
            "open_fee": self.open_fee,
            "tp_price": self.tp_price,
            "tp_market": self.tp_market,
            "tp_attempt": self.tp_attempt,
            "uncovered_since": self.uncovered_since,
        }

    @classmethod
    def from_state(cls, data: Mapping[str, Any], where: str) -> GridLevel:
        reader = _Reader(data, where)
        return cls(
            seq=reader.get("seq", int),
            stage=LevelStage(reader.get("stage", str)),
            open_price=reader.get("open_price", Decimal),
            open_qty=reader.get("open_qty", Decimal),
            opened_at=reader.get("opened_at", datetime),
            post_only=reader.get("post_only", bool),
            qty=reader.get("qty", Decimal),
            entry_price=reader.optional("entry_price", Decimal),
            open_fee=reader.get("open_fee", Decimal),
            tp_price=reader.optional("tp_price", Decimal),
            tp_market=reader.get("tp_market", bool),
            tp_attempt=reader.get("tp_attempt", int),
            uncovered_since=reader.optional("uncovered_since", datetime),
        )


@dataclass(frozen=True, slots=True)
class GridTotals:
    """What the run has realized so far. `realized_pnl` is net of all fees in `fees`."""

    realized_pnl: Decimal = ZERO
    fees: Decimal = ZERO
    take_profits: int = 0  # levels closed by their take-profit
    closed_qty: Decimal = ZERO  # base quantity closed (take-profits and close-all orders)

    def add(self, net: Decimal, fees: Decimal, qty: Decimal, take_profit: bool) -> GridTotals:
        return GridTotals(
            self.realized_pnl + net,
            self.fees + fees,
            self.take_profits + (1 if take_profit else 0),
            self.closed_qty + qty,
        )


@dataclass(frozen=True, slots=True)
class GridEpisode:
    """PnL booked since the venue position was last flat: what its position record gets."""

    realized_pnl: Decimal = ZERO
    fees: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class GridState:
    run_id: str
    direction: GridDirection
    started_at: datetime
    status: GridStatus = GridStatus.RUNNING
    stop_reason: str | None = None
    stopped_at: datetime | None = None
    paused: bool = False
    next_seq: int = 1
    last_open_at: datetime | None = None
    levels: tuple[GridLevel, ...] = ()
    closing: bool = False  # a close-all order is wanted until the position is flat
    close_attempt: int = 0
    totals: GridTotals = field(default_factory=GridTotals)
    episode: GridEpisode = field(default_factory=GridEpisode)

    @classmethod
    def fresh(cls, strategy_name: str, direction: GridDirection, now: datetime) -> GridState:
        return cls(run_id_for(strategy_name, now), direction, now)

    @property
    def close_id(self) -> str:
        return grid_client_order_id(self.run_id, OrderKind.CLOSE, CLOSE_SEQ, self.close_attempt)

    def with_levels(self, levels: list[GridLevel]) -> GridState:
        return replace(self, levels=tuple(sorted(levels, key=lambda level: level.seq)))

    def tracked_ids(self) -> list[str]:
        """Client ids of the orders this state is waiting on (the cycle refreshes them)."""
        ids = []
        for level in self.levels:
            if level.stage is LevelStage.OPENING:
                ids.append(level.open_id(self.run_id))
            elif level.stage is LevelStage.CLOSING:
                ids.append(level.tp_id(self.run_id))
        if self.closing:
            ids.append(self.close_id)
        return ids

    def to_state(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "direction": self.direction.value,
            "started_at": self.started_at,
            "status": self.status.value,
            "stop_reason": self.stop_reason,
            "stopped_at": self.stopped_at,
            "paused": self.paused,
            "next_seq": self.next_seq,
            "last_open_at": self.last_open_at,
            "levels": [level.to_state() for level in self.levels],
            "closing": self.closing,
            "close_attempt": self.close_attempt,
            "totals": {
                "realized_pnl": self.totals.realized_pnl,
                "fees": self.totals.fees,
                "take_profits": self.totals.take_profits,
                "closed_qty": self.totals.closed_qty,
            },
            "episode": {
                "realized_pnl": self.episode.realized_pnl,
                "fees": self.episode.fees,
            },
        }

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> GridState:
        """Parse stored state; `GridStateError` naming the bad key if it is corrupt."""
        reader = _Reader(data, "grid state")
        levels = reader.get("levels", list)
        totals = _Reader(reader.get("totals", dict), "grid state.totals")
        episode = _Reader(reader.get("episode", dict), "grid state.episode")
        try:
            return cls(
                run_id=reader.get("run_id", str),
                direction=GridDirection(reader.get("direction", str)),
                started_at=reader.get("started_at", datetime),
                status=GridStatus(reader.get("status", str)),
                stop_reason=reader.optional("stop_reason", str),
                stopped_at=reader.optional("stopped_at", datetime),
                paused=reader.get("paused", bool),
                next_seq=reader.get("next_seq", int),
                last_open_at=reader.optional("last_open_at", datetime),
                levels=tuple(
                    GridLevel.from_state(item, f"grid state.levels[{index}]")
                    for index, item in enumerate(levels)
                ),
                closing=reader.get("closing", bool),
                close_attempt=reader.get("close_attempt", int),
                totals=GridTotals(
                    totals.get("realized_pnl", Decimal),
                    totals.get("fees", Decimal),
                    totals.get("take_profits", int),
                    totals.get("closed_qty", Decimal),
                ),
                episode=GridEpisode(
                    episode.get("realized_pnl", Decimal),
                    episode.get("fees", Decimal),
                ),
            )
        except ValueError as exc:  # an unknown enum value
            raise GridStateError(f"grid state: {exc}") from None


class _Reader:
    """Typed access to a stored mapping; errors name the path of the bad key."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, Mapping):
            raise GridStateError(f"{where}: expected a mapping, got {type(data).__name__}")
        self._data = data
        self._where = where

    def get(self, key: str, kind: type[Any]) -> Any:
        if key not in self._data:
            raise GridStateError(f"{self._where}.{key}: missing (corrupt or foreign state)")
        return self._check(key, self._data[key], kind)

    def optional(self, key: str, kind: type[Any]) -> Any:
        value = self._data.get(key)
        return None if value is None else self._check(key, value, kind)

    def _check(self, key: str, value: object, kind: type[Any]) -> Any:
        # bool is an int in Python; a flag stored where a number belongs is still corrupt.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise GridStateError(
                f"{self._where}.{key}: expected {kind.__name__}, got {type(value).__name__}"
            )
        return value

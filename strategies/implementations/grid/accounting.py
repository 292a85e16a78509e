"""Folding what became of the grid's orders into its levels and its realized PnL (pure).

Each level moves OPENING -> HOLDING -> CLOSING -> (closed) as the journal's records of its
orders come back terminal. A take-profit that ends without filling completely (cancelled,
rejected, cut by the venue) sends what is left of the level back to HOLDING with the next
attempt number, so its replacement has a new client id.

PnL of a close, per level, direction-aware and net of both fees:

    net = (close_price - entry_price) * qty * sign - open_fee_share - close_fee

where sign is +1 for a long grid and -1 for a short one, and the open fee is charged in
proportion to the quantity closed.

Folding the same records into the same state always gives the same result, and a record is
folded once: the state that has folded it moves on to the next client id (next stage or
attempt), which is what makes a repeated cycle harmless.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.enums import OrderStatus, OrderType
from strategies.components.base_components import OrderRecord
from strategies.implementations.grid.actions import RecordGridEvent
from strategies.implementations.grid.models import (
    ZERO,
    GridEpisode,
    GridLevel,
    GridState,
    GridTotals,
    LevelStage,
)

# Not final: may still fill. INTENT is not here: it was never sent.
LIVE_STATUSES = frozenset(
    {OrderStatus.SENT, OrderStatus.UNKNOWN, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED}
)


@dataclass(frozen=True, slots=True)
class Realized:
    seq: int
    qty: Decimal
    entry_price: Decimal
    close_price: Decimal
    gross: Decimal
    fees: Decimal  # the open fee share plus the close fee

    @property
    def net(self) -> Decimal:
        return self.gross - self.fees


def realize(
    level: GridLevel, qty: Decimal, price: Decimal, close_fee: Decimal, sign: int
) -> tuple[GridLevel | None, Realized]:
    """Close `qty` of `level` at `price`; returns what is left of the level (or None)."""
    if level.entry_price is None or qty <= 0 or qty > level.qty:
        raise ValueError(f"level {level.seq}: cannot close {qty} of {level.qty}")
    open_fee = level.open_fee if qty == level.qty else level.open_fee * qty / level.qty
    result = Realized(
        seq=level.seq,
        qty=qty,
        entry_price=level.entry_price,
        close_price=price,
        gross=(price - level.entry_price) * qty * sign,
        fees=open_fee + close_fee,
    )
    if qty == level.qty:
        return None, result
    return replace(level, qty=level.qty - qty, open_fee=level.open_fee - open_fee), result


@dataclass
class Fold:
    """The working copy of the state while one cycle is planned."""

    state: GridState
    levels: list[GridLevel]
    totals: GridTotals
    episode: GridEpisode
    events: list[RecordGridEvent] = field(default_factory=list)

    @classmethod
    def of(cls, state: GridState) -> Fold:
        return cls(state, list(state.levels), state.totals, state.episode)

    def event(self, kind: str, **payload: Any) -> None:
        self.events.append(RecordGridEvent(kind, payload))

    def book(self, realized: Realized, take_profit: bool) -> None:
        self.totals = self.totals.add(realized.net, realized.fees, realized.qty, take_profit)
        self.episode = replace(
            self.episode,
            realized_pnl=self.episode.realized_pnl + realized.net,
            fees=self.episode.fees + realized.fees,
        )

    def charge(self, fees: Decimal) -> None:
        """A fee with no matching inventory (e.g. closing a position the grid did not track)."""
        self.totals = replace(
            self.totals, realized_pnl=self.totals.realized_pnl - fees, fees=self.totals.fees + fees
        )
        self.episode = replace(
            self.episode,
            realized_pnl=self.episode.realized_pnl - fees,
            fees=self.episode.fees + fees,
        )

    def write_off(self, level: GridLevel, reason: str, now: datetime) -> None:
        """Forget a level closed outside the grid: its PnL is unknown, its open fee was paid."""
        self.charge(level.open_fee)
        self.event(
            "grid.level_written_off",
            seq=level.seq,
            qty=level.qty,
            entry_price=level.entry_price,
            reason=reason,
            at=now,
        )

    def result(self, **changes: Any) -> GridState:
        state = replace(self.state, totals=self.totals, episode=self.episode, **changes)
        return state.with_levels(self.levels)


def fold_orders(fold: Fold, records: Mapping[str, OrderRecord], sign: int) -> None:
    """Apply every terminal record the state is waiting on (levels first, then close-all)."""
    run_id = fold.state.run_id
    kept = []
    for level in fold.levels:
        folded = _fold_level(fold, level, records, run_id, sign)
        if folded is not None:
            kept.append(folded)
    fold.levels = kept
    _fold_close(fold, records, sign)


def _fold_level(
    fold: Fold,
    level: GridLevel,
    records: Mapping[str, OrderRecord],
    run_id: str,
    sign: int,
) -> GridLevel | None:
    while True:
        if level.stage is LevelStage.OPENING:
            record = records.get(level.open_id(run_id))
            if record is None or not record.is_terminal:
                return level
            if record.filled_qty <= 0:
                fold.event(
                    "grid.open_" + record.status.value,
                    seq=level.seq,
                    price=level.open_price,
                    error=record.error,
                )
                return None
            level = replace(
                level,
                stage=LevelStage.HOLDING,
                qty=record.filled_qty,
                entry_price=_fill_price(record),
                open_fee=record.fee_usd,
            )
            fold.event(
                "grid.open_filled",
                seq=level.seq,
                qty=level.qty,
                price=level.entry_price,
                fee=record.fee_usd,
            )
        elif level.stage is LevelStage.HOLDING:
            # Only a rebuilt state meets a take-profit it has not placed itself: adopt it.
            record = records.get(level.tp_id(run_id))
            if record is None:
                return level
            level = replace(
                level,
                stage=LevelStage.CLOSING,
                tp_price=record.intent.price,
                tp_market=record.intent.order_type is OrderType.MARKET,
            )
        else:
            record = records.get(level.tp_id(run_id))
            if record is None or not record.is_terminal:
                return level
            left: GridLevel | None = level
            if record.filled_qty > 0:
                left, realized = realize(
                    level, record.filled_qty, _fill_price(record), record.fee_usd, sign
                )
                fold.book(realized, take_profit=left is None)
                fold.event(
                    "grid.take_profit",
                    seq=level.seq,
                    qty=realized.qty,
                    entry_price=realized.entry_price,
                    price=realized.close_price,
                    fees=realized.fees,
                    pnl=realized.net,
                )
            if left is None:
                return None
            level = replace(left, stage=LevelStage.HOLDING, tp_attempt=left.tp_attempt + 1)


def _fold_close(fold: Fold, records: Mapping[str, OrderRecord], sign: int) -> None:
    state = fold.state
    while state.closing:
        record = records.get(state.close_id)
        if record is None or not record.is_terminal:
            break
        if record.filled_qty > 0:
            _allocate_close(fold, record, sign)
        state = replace(state, close_attempt=state.close_attempt + 1)
    fold.state = state


def _allocate_close(fold: Fold, record: OrderRecord, sign: int) -> None:
    """Spread a close-all fill over the levels holding inventory, oldest first."""
    price = _fill_price(record)
    filled = record.filled_qty
    left = filled
    kept = []
    pnl = ZERO
    for level in fold.levels:
        if level.stage is LevelStage.OPENING or level.qty <= 0 or left <= 0:
            kept.append(level)
            continue
        qty = min(level.qty, left)
        remaining, realized = realize(level, qty, price, record.fee_usd * qty / filled, sign)
        fold.book(realized, take_profit=False)
        pnl += realized.net
        left -= qty
        if remaining is not None:
            kept.append(remaining)
    fold.levels = kept
    if left > 0:
        fold.charge(record.fee_usd * left / filled)
    fold.event(
        "grid.position_closed",
        qty=filled,
        price=price,
        fee=record.fee_usd,
        pnl=pnl,
        untracked_qty=left,
    )


def _fill_price(record: OrderRecord) -> Decimal:
    if record.avg_fill_price is None:
        raise ValueError(
            f"order {record.client_order_id}: filled {record.filled_qty} without a fill price"
        )
    return record.avg_fill_price

"""Rebuilding a grid's state from the order journal when no state is stored.

The journal holds every order the grid ever sent, each under a client id that names its
run, level and purpose (`models.grid_client_order_id`). The latest run's open orders give
the levels; everything after that — fills, take-profits and their attempts, close-all
orders, realized PnL — is replayed by the same accounting a live cycle uses, from the
journal's records refreshed against the venue. Nothing is sent twice: every order the
rebuilt state waits on keeps its client id, so re-sending it is a lookup.

A run with nothing left alive (no inventory, no order that may still fill) is not rebuilt:
the next cycle starts a new run, which is how an operator restarts a stopped grid (delete
its state once it is flat).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from core.enums import OrderSide
from strategies.components.base_components import OrderRecord
from strategies.implementations.grid.accounting import Fold, fold_orders
from strategies.implementations.grid.models import (
    GRID_PURPOSES,
    GridDirection,
    GridLevel,
    GridOrderId,
    GridState,
    GridStatus,
    LevelStage,
    OrderKind,
    parse_client_order_id,
)


def recover_state(
    records: Sequence[OrderRecord], now: datetime
) -> tuple[GridState, dict[str, OrderRecord]] | None:
    """The latest run's state, replayed, and its records by client id; None if nothing of
    the run is alive.

    `records` are the strategy's journal records, oldest first, already refreshed from the
    venue where they were not final.
    """
    parsed: list[tuple[GridOrderId, OrderRecord]] = []
    for record in records:
        order_id = parse_client_order_id(record.client_order_id)
        if order_id is not None and record.intent.purpose in GRID_PURPOSES:
            parsed.append((order_id, record))
    if not parsed:
        return None
    run_id = parsed[-1][0].run_id
    run = [(order_id, record) for order_id, record in parsed if order_id.run_id == run_id]
    opens = sorted(
        ((oid.seq, record) for oid, record in run if oid.kind is OrderKind.OPEN),
        key=lambda item: item[0],
    )
    if not opens:
        return None
    direction = (
        GridDirection.LONG if opens[0][1].intent.side is OrderSide.BUY else GridDirection.SHORT
    )
    closing = any(oid.kind is OrderKind.CLOSE for oid, _ in run)
    levels = tuple(
        GridLevel(
            seq=seq,
            stage=LevelStage.OPENING,
            open_price=_price(record),
            open_qty=record.intent.quantity,
            opened_at=now,
            post_only=record.intent.post_only,
        )
        for seq, record in opens
    )
    state = GridState(
        run_id=run_id,
        direction=direction,
        started_at=now,
        status=GridStatus.STOPPED if closing else GridStatus.RUNNING,
        stop_reason="rebuilt from the journal: a close order was sent" if closing else None,
        stopped_at=now if closing else None,
        next_seq=opens[-1][0] + 1,
        last_open_at=now,  # unknown: wait a full wait_time before the next open
        levels=levels,
        closing=closing,
    )
    by_id = {record.client_order_id: record for _, record in run}
    fold = Fold.of(state)
    fold_orders(fold, by_id, direction.sign)
    rebuilt = fold.result()  # the replay's events are history, not news: dropped
    if not rebuilt.levels and all(record.is_terminal for record in by_id.values()):
        return None
    return rebuilt, by_id


def _price(record: OrderRecord) -> Decimal:
    if record.intent.price is None:
        raise ValueError(f"journal: open order {record.client_order_id} has no limit price")
    return record.intent.price

"""Mirroring the grid's venue position in the position manager (pure: returns actions).

One position record per *episode*: from the moment the venue position on the grid's symbol
goes from flat to held until it is flat again. The record carries the quantity, the venue's
average entry, and the fees and realized PnL of the take-profits booked during the episode;
it is closed with that realized PnL when the venue position is flat. Records are written only
when the quantity, entry or fees change (on fills), not on every cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Context, Decimal

from core.enums import PositionStatus
from strategies.categories.stateless_strategy import Action, MarketSnapshot
from strategies.components.base_components import NewPosition, PositionRecord, PositionUpdate
from strategies.implementations.grid.actions import (
    ClosePositionRecord,
    OpenPositionRecord,
    UpdatePositionRecord,
)
from strategies.implementations.grid.models import ZERO, GridDirection, GridEpisode

_STORED = Decimal("1e-18")  # what NUMERIC(38, 18) keeps
_WIDE = Context(prec=60)


def stored(value: Decimal) -> Decimal:
    """`value` as the position manager stores it, so that comparisons are exact."""
    return value.quantize(_STORED, context=_WIDE)


def track_position(
    strategy_name: str,
    direction: GridDirection,
    market: MarketSnapshot,
    records: Sequence[PositionRecord],
    episode: GridEpisode,
    now: datetime,
) -> tuple[GridEpisode, list[Action]]:
    """Actions that bring the records in line with the venue, and the episode to keep.

    Flat: every active record is closed (the first with the episode's realized PnL) and the
    episode starts again from zero. The planner puts these closes *before* it saves the
    state, so a crash in between leaves either an open record and the episode (closed next
    cycle) or no open record, which resets the episode.
    """
    held = max(ZERO, market.position_qty * direction.sign)
    if held == 0 or market.position is None:
        return GridEpisode(), [
            ClosePositionRecord(
                record.id,
                "grid position flat",
                episode.realized_pnl if index == 0 else ZERO,
            )
            for index, record in enumerate(records)
        ]
    entry = market.position.entry_price
    long = direction is GridDirection.LONG
    changes = PositionUpdate(
        size_usd=stored(held * entry),
        long_qty=held if long else None,
        short_qty=None if long else held,
        long_entry_price=entry if long else None,
        short_entry_price=None if long else entry,
        fees_usd=stored(episode.fees),
        unrealized_pnl_usd=stored(market.position.unrealized_pnl),
        last_monitored_at=now,
    )
    if not records:
        position = NewPosition(
            strategy_name=strategy_name,
            symbol=market.symbol,
            long_dex=market.venue if long else None,
            short_dex=None if long else market.venue,
            size_usd=stored(held * entry),
            status=PositionStatus.OPEN,
        )
        return episode, [OpenPositionRecord(position, changes)]
    record = records[0]
    qty, price = (
        (record.long_qty, record.long_entry_price)
        if long
        else (record.short_qty, record.short_entry_price)
    )
    if (qty, price, record.fees_usd) == (stored(held), stored(entry), stored(episode.fees)):
        return episode, []
    return episode, [UpdatePositionRecord(record.id, changes)]

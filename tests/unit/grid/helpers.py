"""Hand-made grid snapshots for the pure planner (no venue, no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.enums import OrderStatus
from core.market import Instrument, TopOfBook
from exchanges.base import Position
from strategies.components.base_components import OrderIntent, OrderRecord
from strategies.factory import load_strategy_config
from strategies.implementations.grid.actions import GridSnapshot
from strategies.implementations.grid.config import GridConfig
from strategies.implementations.grid.models import GridState

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
NAME = "g1"
INSTRUMENT = Instrument(
    "hyperliquid", "ETH", Decimal("0.01"), Decimal("0.01"), Decimal("0.01"), Decimal(0), Decimal(0)
)


def config(**changes: Any) -> GridConfig:
    data = {
        "type": "grid",
        "name": NAME,
        "venue": "hyperliquid",
        "symbol": "ETH",
        "direction": "long",
        "order_qty": "0.1",
        "take_profit_pct": "1",
        "max_orders": 3,
        "wait_time_seconds": 0,
        **changes,
    }
    loaded = load_strategy_config(data)
    assert isinstance(loaded, GridConfig)
    return loaded


def snapshot(
    state: GridState | None = None,
    version: int = 0,
    records: dict[str, OrderRecord] | None = None,
    bid: str = "2999.70",
    ask: str = "3000.30",
    position_qty: str = "0",
    entry: str = "3000",
) -> GridSnapshot:
    qty = Decimal(position_qty)
    position = None
    if qty:
        mid = (Decimal(bid) + Decimal(ask)) / 2
        position = Position(
            "hyperliquid", "ETH", qty, Decimal(entry), mid, Decimal(0), None, Decimal(0), Decimal(1)
        )
    book = TopOfBook(
        "hyperliquid", "ETH", Decimal(bid), Decimal(10), Decimal(ask), Decimal(10), NOW
    )
    return GridSnapshot(
        venue="hyperliquid",
        symbol="ETH",
        book=book,
        position=position,
        open_orders=(),
        taken_at=NOW,
        instrument=INSTRUMENT,
        state=state,
        version=version,
        records=records or {},
    )


def record(
    intent: OrderIntent,
    status: OrderStatus,
    filled: str = "0",
    price: str | None = None,
    fee: str = "0",
) -> OrderRecord:
    return OrderRecord(
        intent=intent,
        status=status,
        filled_qty=Decimal(filled),
        avg_fill_price=Decimal(price) if price is not None else None,
        fee_usd=Decimal(fee),
    )

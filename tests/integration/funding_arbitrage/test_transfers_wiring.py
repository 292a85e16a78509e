"""The transfers phase hands margin needs to the fund-transfer manager: one transfer per
need while it is in flight, money arrives, the need resolves."""

from __future__ import annotations

from datetime import timedelta

from core.enums import TransferStatus
from strategies.components.kits import PostgresKit
from strategies.factory import build_strategy, load_strategy_config
from strategies.transfer_wiring import load_transfers_config
from tests.integration.transfers.support import figures, inline_manager

from .conftest import D, Market, base_config
from .test_opening_and_risk import two_symbols

VENUES = [
    {"name": "lighter", "min_free_margin_usd": "1000", "target_free_margin_usd": "4000"},
    {"name": "hyperliquid", "min_free_margin_usd": "1000", "target_free_margin_usd": "2000"},
]


def test_a_margin_need_starts_one_transfer_that_delivers_the_money(market: Market):
    two_symbols(market, hyperliquid_deposit=900)
    manager, dispatcher = inline_manager(market.engine, market.clock, load_transfers_config())
    kit = PostgresKit(market.engine, market.clock, market.venues, transfers=lambda: manager)
    strategy = build_strategy(load_strategy_config(base_config(venues=VENUES)), kit)
    before = figures(market.engine).total

    first = strategy.process_transfers(market.clock.now())
    assert first.ok, first.error
    again = strategy.process_transfers(market.clock.now())  # the next tick, same need
    assert again.ok
    [transfer] = manager.list()
    assert (transfer.from_venue, transfer.to_venue, transfer.amount) == (
        "lighter",
        "hyperliquid",
        D("1100.00"),
    )
    assert [e.payload["transfer_id"] for e in market.events("transfer.started")] == [
        str(transfer.id)
    ]

    for _ in range(60):  # withdrawal delay, bridge, deposit confirmation, on the clock
        dispatcher.drain(manager)
        if manager.get(transfer.id).status is TransferStatus.COMPLETED:
            break
        market.clock.advance(timedelta(minutes=5))
        manager.sweep()
    done = manager.get(transfer.id)
    assert done.status is TransferStatus.COMPLETED
    assert market.venues["hyperliquid"].balance().available >= D(900) + D(1100) - done.fee
    assert figures(market.engine).total == before  # nothing created or lost on the way
    assert strategy.process_transfers(market.clock.now()).actions == ()
    assert len(manager.list()) == 1

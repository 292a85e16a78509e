"""A strategy's transfer request goes through the same limits as the operator's: a need above
`max_amount`, or one its route's 24 h cap has no room for, is refused naming the limit,
recorded as `transfer.refused`, and nothing is stored."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import yaml

from strategies.components.kits import PostgresKit
from strategies.factory import build_strategy, load_strategy_config
from strategies.implementations.funding_arbitrage.operations.fund_transfer import (
    FundTransferManager,
)
from strategies.implementations.funding_arbitrage.strategy import FundingArbitrageStrategy
from strategies.transfer_wiring import DEFAULT_CONFIG, TransfersConfig
from tests.integration.transfers.support import inline_manager

from .conftest import Market, base_config
from .test_opening_and_risk import two_symbols
from .test_transfers_wiring import VENUES


def _strategy_with_transfers(
    market: Market, **policy: Any
) -> tuple[FundingArbitrageStrategy, FundTransferManager]:
    raw = yaml.safe_load(DEFAULT_CONFIG.read_text())
    raw["routing"]["policy"].update(policy)
    manager, _ = inline_manager(market.engine, market.clock, TransfersConfig.model_validate(raw))
    kit = PostgresKit(market.engine, market.clock, market.venues, transfers=lambda: manager)
    strategy = build_strategy(load_strategy_config(base_config(venues=VENUES)), kit)
    assert isinstance(strategy, FundingArbitrageStrategy)
    return strategy, manager


def test_a_need_above_max_amount_is_refused_and_nothing_is_stored(market: Market):
    two_symbols(market, hyperliquid_deposit=900)  # hyperliquid needs 1100 from lighter
    strategy, manager = _strategy_with_transfers(market, max_amount="1000")
    result = strategy.process_transfers(market.clock.now())
    assert result.ok, result.error
    [refused] = market.events("transfer.refused")
    assert refused.payload["key"] == "lighter->hyperliquid"
    assert (
        "USDC is above the transfer policy: at most 1000 USDC per transfer"
        in (refused.payload["error"])
    )
    assert refused.payload["error"].startswith("amount 1100")
    assert manager.list() == []
    assert market.events("transfer.started") == []


def test_a_need_the_route_cap_has_no_room_for_is_refused(market: Market):
    two_symbols(market, hyperliquid_deposit=900)
    strategy, manager = _strategy_with_transfers(market, max_amount="1500", route_cap_24h="2000")
    operator = manager.request_transfer("lighter", "hyperliquid", Decimal(1500)).record
    result = strategy.process_transfers(market.clock.now())
    assert result.ok, result.error
    [refused] = market.events("transfer.refused")
    error = refused.payload["error"]
    assert "on lighter/main->hyperliquid/main:USDC refused" in error
    assert "cap is 2000 USDC per rolling 24 h" in error and "1500 USDC is used" in error
    assert [t.id for t in manager.list()] == [operator.id]

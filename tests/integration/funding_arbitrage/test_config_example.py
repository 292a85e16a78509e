"""The example config builds a working strategy through the factory on paper venues."""

from __future__ import annotations

from decimal import Decimal

from core.settings import PROJECT_ROOT
from exchanges.paper import PaperExchange, PaperVenueConfig
from strategies.components.kits import PostgresKit
from strategies.factory import build_strategy_from, load_strategy_config
from strategies.implementations.funding_arbitrage.config import FundingArbitrageConfig
from strategies.implementations.funding_arbitrage.strategy import FundingArbitrageStrategy

from .conftest import NO_TRANSFERS, Market

EXAMPLE = PROJECT_ROOT / "configs" / "strategies" / "funding_arbitrage.yaml"


def example_venues(market: Market, config: FundingArbitrageConfig) -> dict[str, PaperExchange]:
    """A paper account per configured venue (its `account`), at the configured leverage."""
    venues = {}
    for settings in config.venues:
        venue = PaperExchange(
            settings.name,
            engine=market.engine,
            clock=market.clock,
            account=settings.account,
            config=PaperVenueConfig(leverage=config.sizing.leverage),
        )
        venue.credit_deposit(f"seed-{settings.name}", "USDC", Decimal(10_000), "arbitrum")
        venues[settings.name] = venue
    market.venues.update(venues)
    return venues


def test_the_example_yaml_builds_and_runs_a_cycle_through_the_factory(market: Market):
    config = load_strategy_config(EXAMPLE)
    venues = example_venues(market, config)
    kit = PostgresKit(market.engine, market.clock, venues, transfers=lambda: NO_TRANSFERS)
    strategy = build_strategy_from(EXAMPLE, kit)
    assert isinstance(strategy, FundingArbitrageStrategy)
    strategy.start()
    result = strategy.run_cycle(market.clock.now())  # no funding data yet: nothing to do
    assert result.ok, result.error
    assert result.to_json()["ok"] is True

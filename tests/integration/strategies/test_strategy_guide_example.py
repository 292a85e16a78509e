"""The worked example of docs/strategy-guide.md, run as written against the paper venue.

The code and the YAML are taken from the guide itself, so the guide cannot drift from the
API: if it stops working, this test fails.
"""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from core.clock import ManualClock
from core.errors import ConfigError
from core.settings import PROJECT_ROOT
from exchanges.paper import PaperExchange, PaperVenueConfig
from exchanges.scenarios import store_ticks
from exchanges.simulation.market import Tick
from strategies.base_strategy import BaseStrategy
from strategies.components.kits import PostgresKit
from strategies.factory import StrategyRegistry, build_strategy_from, load_strategy_config

GUIDE = (PROJECT_ROOT / "docs" / "strategy-guide.md").read_text(encoding="utf-8")
START = datetime(2026, 3, 2, tzinfo=UTC)


def _block(marker: str, language: str) -> str:
    match = re.search(rf"<!-- {marker} -->\n```{language}\n(.*?)\n```", GUIDE, re.DOTALL)
    assert match, f"docs/strategy-guide.md has no {language} block after <!-- {marker} -->"
    return match.group(1) + "\n"


@pytest.fixture
def twap_registry() -> Iterator[StrategyRegistry]:
    module = types.ModuleType("strategy_guide_twap")
    sys.modules[module.__name__] = module  # pydantic resolves annotations through it
    try:
        exec(
            compile(_block("twap-example", "python"), "strategy-guide.md", "exec"), module.__dict__
        )
        registry = StrategyRegistry()
        registry.register(module.TwapStrategy)
        yield registry
    finally:
        del sys.modules[module.__name__]


@pytest.fixture
def config_path(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "twap-btc.yaml"
    path.write_text(_block("twap-config", "yaml"))
    return path


def _paper(engine: Engine, clock: ManualClock) -> PaperExchange:
    ticks = [
        Tick(
            "hyperliquid",
            "BTC",
            START + timedelta(minutes=m),
            Decimal(50_000),
            Decimal(0),
            Decimal(1),
        )
        for m in range(0, 70, 5)
    ]
    store_ticks(engine, ticks)
    venue = PaperExchange("hyperliquid", engine=engine, clock=clock, config=PaperVenueConfig())
    venue.credit_deposit("seed-twap", "USDC", Decimal(10_000), "arbitrum")
    return venue


def _btc(venue: PaperExchange) -> Decimal:
    return sum((p.qty for p in venue.positions() if p.symbol == "BTC"), Decimal(0))


def test_the_guides_twap_fills_its_target_in_slices_on_the_paper_venue(
    clean_db, twap_registry, config_path
):
    clock = ManualClock(START)
    venue = _paper(clean_db, clock)
    kit = PostgresKit(clean_db, clock, {"hyperliquid": venue})
    strategy = build_strategy_from(config_path, kit, twap_registry)
    assert isinstance(strategy, BaseStrategy) and strategy.name == "twap-btc"

    first = strategy.run_cycle(clock.now())
    assert first.ok, first.error
    assert _btc(venue) == Decimal("0.002")
    # The same tick delivered twice re-sends the same slice order: nothing new is bought.
    assert strategy.execute(first.actions, clock.now()) == list(first.results)
    assert strategy.run_cycle(clock.now()).actions == ()
    assert _btc(venue) == Decimal("0.002")

    placed = 1
    for _ in range(12):  # every 5 minutes until an hour in, past the window's end
        clock.advance(timedelta(minutes=5))
        result = strategy.run_cycle(clock.now())
        assert result.ok, result.error
        placed += len(result.results)
    assert _btc(venue) == Decimal("0.010")
    assert placed == 5  # one order per slice, no more


def test_the_guides_error_examples_are_what_the_factory_says(twap_registry, config_path):
    text = config_path.read_text()
    cases = [
        ("slices: 5", "slices: 0", "twap.slices: must be greater than 0"),
        ("end_at: 2026-03-02T00:50:00Z\n", "", "twap.end_at: required field is missing"),
        (
            "max_spread_bps: 20",
            "max_spread_bps: 20\ncolour: red",
            "twap.colour: unknown field (not allowed here)",
        ),
        ("type: twap\n", "type: twapp\n", "type: unknown strategy type 'twapp'; known types: twap"),
        (
            "start_at: 2026-03-02T00:00:00Z",
            "start_at: 2026-03-03T00:00:00Z",
            "twap: end_at must be after start_at",
        ),
    ]
    produced = []
    for original, replacement, message in cases:
        assert original in text
        config_path.write_text(text.replace(original, replacement))
        with pytest.raises(ConfigError) as err:
            load_strategy_config(config_path, twap_registry)
        assert str(err.value) == f"{config_path}: {message}"
        produced.append(f"configs/twap-btc.yaml: {message}")
    documented = re.findall(r"^configs/twap-btc\.yaml: .*$", GUIDE, re.MULTILINE)
    assert len(documented) == 4
    for line in documented:  # the guide's examples, up to its "known types: ..." ellipsis
        assert any(p.startswith(line.removesuffix("...")) for p in produced), line

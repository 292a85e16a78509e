"""The grid's config: every mistake is reported with its field path; the example loads."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from beat_schedule import build_schedule
from core.clock import ManualClock
from core.errors import ConfigError
from core.settings import PROJECT_ROOT
from strategies.components.kits import InMemoryKit
from strategies.factory import build_strategy_from, load_strategy_config
from strategies.implementations.grid.config import GridConfig
from strategies.implementations.grid.models import GridDirection, OnStop
from strategies.implementations.grid.strategy import GridStrategy
from tests.unit.strategies.fakes import T0, FakeVenue

EXAMPLE = PROJECT_ROOT / "configs" / "strategies" / "grid.yaml"
VALID: dict[str, Any] = {
    "type": "grid",
    "name": "g1",
    "venue": "hyperliquid",
    "symbol": "ETH",
    "direction": "long",
    "order_qty": "0.1",
    "take_profit_pct": "0.5",
    "max_orders": 5,
    "wait_time_seconds": 60,
}


def _error(**changes: Any) -> str:
    data = {**VALID, **changes}
    for key in [k for k, v in changes.items() if v is None]:
        del data[key]
    with pytest.raises(ConfigError) as caught:
        load_strategy_config(data, source_name="grid.yaml")
    return str(caught.value)


def test_the_example_config_loads_and_builds_through_the_factory():
    config = load_strategy_config(EXAMPLE)
    assert isinstance(config, GridConfig)
    assert (config.name, config.venue, config.account, config.symbol) == (
        "grid-eth",
        "hyperliquid",
        "grid",
        "ETH",
    )
    assert config.direction is GridDirection.LONG and config.on_stop is OnStop.KEEP
    assert config.order_qty == Decimal("0.05") and config.intervals.cycle_seconds == 10
    kit = InMemoryKit(ManualClock(T0), {"hyperliquid": FakeVenue("hyperliquid")})
    assert isinstance(build_strategy_from(EXAMPLE, kit), GridStrategy)


def test_defaults_are_explicit():
    config = load_strategy_config(VALID)
    assert isinstance(config, GridConfig)
    assert (config.enabled, config.account, config.boost, config.on_stop) == (
        True,
        "main",
        False,
        OnStop.KEEP,
    )
    assert (config.grid_step_pct, config.open_timeout_seconds, config.intervals.cycle_seconds) == (
        0,
        300,
        10,
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"direction": None}, "grid.yaml: grid.direction: required field is missing"),
        ({"direction": "up"}, "grid.yaml: grid.direction: must be 'long' or 'short'"),
        ({"take_profit_pct": "0"}, "grid.yaml: grid.take_profit_pct: must be greater than 0"),
        ({"max_orders": 0}, "grid.yaml: grid.max_orders: must be greater than 0"),
        ({"colour": "red"}, "grid.yaml: grid.colour: unknown field (not allowed here)"),
        (
            {"intervals": {"cycle_seconds": 0}},
            "grid.yaml: grid.intervals.cycle_seconds: must be greater than or equal to 1",
        ),
        (
            {"order_qty": None},
            "grid.yaml: grid.order_notional_usd: set exactly one of order_qty (base units per "
            "order) or order_notional_usd (USD per order); got neither",
        ),
        ({"order_notional_usd": "100"}, "grid.order_notional_usd: set exactly one"),
        (
            {"stop_loss_price": "2500", "stop_loss_pct": "5"},
            "grid.yaml: grid.stop_loss_pct: set stop_loss_price or stop_loss_pct, not both",
        ),
        (
            {"pause_price": "3500", "stop_price": "3400"},
            "grid.yaml: grid.stop_price: for a long grid stop_price (3400) must be above "
            "pause_price (3500)",
        ),
        (
            {"stop_loss_price": "3000", "pause_price": "2900"},
            "grid.yaml: grid.pause_price: for a long grid pause_price (2900) must be above "
            "stop_loss_price (3000)",
        ),
        (
            {"direction": "short", "stop_loss_price": "3000", "stop_price": "3100"},
            "grid.yaml: grid.stop_price: for a short grid stop_price (3100) must be below "
            "stop_loss_price (3000)",
        ),
        ({"on_stop": "sell"}, "grid.yaml: grid.on_stop: must be 'keep' or 'close'"),
        ({"account": "my grid"}, "grid.yaml: grid.account: String should match pattern"),
    ],
)
def test_a_bad_config_names_the_field(changes, message):
    assert message in _error(**changes)


def test_consistent_triggers_are_accepted_for_both_directions():
    long = load_strategy_config(
        {**VALID, "stop_loss_price": "2500", "pause_price": "3500", "stop_price": "3600"}
    )
    short = load_strategy_config(
        {
            **VALID,
            "direction": "short",
            "stop_loss_price": "3600",
            "pause_price": "2600",
            "stop_price": "2500",
        }
    )
    assert isinstance(long, GridConfig) and isinstance(short, GridConfig)


def test_the_config_is_frozen():
    config = load_strategy_config(VALID)
    with pytest.raises(ValueError, match="frozen"):
        config.max_orders = 7  # type: ignore[misc]


def test_the_beat_schedule_fires_one_cycle_entry_per_grid():
    config = load_strategy_config({**VALID, "intervals": {"cycle_seconds": 7}})
    schedule = build_schedule({"g1": config}, {"g1": False})
    entry = schedule["g1-cycle"]
    assert (entry["task"], entry["args"], entry["schedule"]) == (
        "perpbot.strategy.cycle",
        ("g1",),
        timedelta(seconds=7),
    )
    assert entry["options"] == {"queue": "strategy", "expires": 7.0}


def test_the_example_in_the_docs_is_the_example_file():
    guide = (PROJECT_ROOT / "docs" / "grid.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- grid-example -->\n```yaml\n(.*?)```", guide, re.DOTALL)
    assert match, "docs/grid.md has no yaml block after <!-- grid-example -->"
    assert match.group(1) == EXAMPLE.read_text(encoding="utf-8")

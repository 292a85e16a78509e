"""The config: the example loads through the factory; every mistake names its field path."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from core.errors import ConfigError
from core.settings import PROJECT_ROOT
from strategies.factory import load_strategy_config
from strategies.implementations.funding_arbitrage.config import FundingArbitrageConfig
from strategies.implementations.funding_arbitrage.rebalance_strategies import (
    Combined,
    build_rebalance_strategy,
)

from .helpers import D

EXAMPLE = PROJECT_ROOT / "configs" / "strategies" / "funding_arbitrage.yaml"


def example() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


def error_for(data: dict) -> str:
    with pytest.raises(ConfigError) as err:
        load_strategy_config(data, source_name="arb.yaml")
    return str(err.value)


def test_the_example_config_loads_through_the_factory():
    config = load_strategy_config(EXAMPLE)
    assert isinstance(config, FundingArbitrageConfig)
    assert config.name == "arb-main" and config.venue_names[0] == "hyperliquid"
    assert config.sizing.position_size_usd == D(1000)  # exact Decimal from YAML
    assert config.intervals.monitor_seconds == 60
    policy = build_rebalance_strategy(config.rebalance)
    assert isinstance(policy, Combined)
    assert [c.policy_type for c in policy.children] == [
        "liquidation_risk",
        "divergence_flip",
        "profit_erosion",
        "time_based",
        "better_opportunity",
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda c: c["rebalance"]["policies"][2].update(min_erosion=1.5),
            "arb.yaml: funding_arbitrage.rebalance.combined.policies[2].profit_erosion"
            ".min_erosion: must be between 0 and 1 (exclusive)",
        ),
        (
            lambda c: c.update(rebalance={"type": "profit_erosion", "min_erosion": 0}),
            "arb.yaml: funding_arbitrage.rebalance.profit_erosion.min_erosion: "
            "must be between 0 and 1 (exclusive)",
        ),
        (
            lambda c: c["sizing"].update(position_size_usd=5000),
            "arb.yaml: funding_arbitrage: sizing.position_size_usd (5000) exceeds "
            "risk.max_position_usd (1500)",
        ),
        (
            lambda c: c["venues"][1].update(target_free_margin_usd=100),
            "arb.yaml: funding_arbitrage.venues[1]: target_free_margin_usd (100) is below "
            "min_free_margin_usd (500)",
        ),
        (
            lambda c: c["rebalance"]["policies"][0].update(critical_distance=0.2),
            "arb.yaml: funding_arbitrage.rebalance.combined.policies[0].liquidation_risk: "
            "critical_distance (0.2) must be below min_distance (0.12)",
        ),
        (
            lambda c: c["rebalance"]["policies"].append({"type": "moon"}),
            "arb.yaml: funding_arbitrage.rebalance.combined.policies[5]: Input tag 'moon'",
        ),
        (
            lambda c: c["execution"].update(max_skew=3),
            "arb.yaml: funding_arbitrage.execution.max_skew: unknown field (not allowed here)",
        ),
        (
            lambda c: c["venues"].append({"name": "lighter"}),
            "arb.yaml: funding_arbitrage: venues: lighter listed more than once",
        ),
        (
            lambda c: c["risk"].update(max_leverage=2),
            "arb.yaml: funding_arbitrage: sizing.leverage (3) exceeds risk.max_leverage (2)",
        ),
        (
            lambda c: c["risk"].update(min_liquidation_distance=0.4),
            "arb.yaml: funding_arbitrage: sizing.leverage (3) puts liquidation at most 0.3333",
        ),
        (
            lambda c: c.pop("rebalance"),
            "arb.yaml: funding_arbitrage.rebalance: required field is missing",
        ),
        (
            lambda c: c["intervals"].update(monitor_seconds=0),
            "arb.yaml: funding_arbitrage.intervals.monitor_seconds: must be greater than or "
            "equal to 1",
        ),
    ],
)
def test_a_bad_config_names_the_field(change, expected):
    data = copy.deepcopy(example())
    change(data)
    assert error_for(data).startswith(expected)


def test_a_yaml_file_error_names_the_file(tmp_path: Path):
    bad = tmp_path / "arb.yaml"
    bad.write_text(EXAMPLE.read_text().replace("min_apr: 0.05", "min_apr: -1"))
    with pytest.raises(ConfigError, match=r"arb.yaml: funding_arbitrage.entry.min_apr: must be"):
        load_strategy_config(bad)

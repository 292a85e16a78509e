"""The factory: configs from YAML or dicts, errors that name file and field, the registry."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict

from core.clock import ManualClock
from core.errors import ConfigError
from strategies import factory
from strategies.base_strategy import CycleResult, StrategyConfig
from strategies.categories.stateful_strategy import StatefulComponents, StatefulStrategy
from strategies.components.kits import InMemoryKit
from strategies.factory import (
    StrategyRegistry,
    build_strategy,
    build_strategy_from,
    load_strategy_config,
    register_strategy,
)
from tests.unit.strategies.fakes import T0, FakeVenue
from tests.unit.strategies.sample_strategies import (
    LedgerConfig,
    LedgerStrategy,
    QuoteConfig,
    QuoteStrategy,
)

LEDGER_YAML = """\
type: sample_ledger
name: ledger-btc
symbol: BTC
venues: [alpha, beta]
size_usd: 2500.123456789012345678
rebalance:
  min_erosion: 0.1
  max_hold_hours: 48
"""


@pytest.fixture
def registry() -> StrategyRegistry:
    registry = StrategyRegistry()
    registry.register(LedgerStrategy)
    registry.register(QuoteStrategy)
    return registry


def write(tmp_path: Path, text: str, name: str = "arb.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def load_error(source: object, registry: StrategyRegistry) -> str:
    with pytest.raises(ConfigError) as err:
        load_strategy_config(source, registry)  # type: ignore[arg-type]
    return str(err.value)


def test_builds_a_registered_strategy_from_yaml_with_its_components(tmp_path, registry):
    path = write(tmp_path, LEDGER_YAML)
    venues = {"alpha": FakeVenue("alpha"), "beta": FakeVenue("beta")}
    kit = InMemoryKit(ManualClock(T0), venues)

    strategy = build_strategy_from(path, kit, registry)

    assert isinstance(strategy, LedgerStrategy)
    assert strategy.name == "ledger-btc"
    assert strategy.position_manager is kit.positions()
    assert strategy.components.exchanges == venues
    assert strategy.run_cycle(T0).ok


def test_yaml_numbers_are_exact_decimals(tmp_path, registry):
    config = load_strategy_config(write(tmp_path, LEDGER_YAML), registry)
    assert isinstance(config, LedgerConfig)
    assert config.size_usd == Decimal("2500.123456789012345678")  # beyond a float's digits
    assert config.rebalance.min_erosion == Decimal("0.1")


def test_a_dict_config_is_validated_the_same_way(registry):
    config = load_strategy_config(
        {
            "type": "sample_quote",
            "name": "q",
            "venue": "alpha",
            "symbol": "ETH",
            "order_usd": "100",
            "max_spread_bps": 5,
        },
        registry,
    )
    assert isinstance(config, QuoteConfig)
    assert config.order_usd == Decimal(100)


def test_unknown_type_lists_the_known_types(tmp_path, registry):
    path = write(tmp_path, "type: martingale\nname: x\n")
    assert load_error(path, registry) == (
        f"{path}: type: unknown strategy type 'martingale'; "
        "known types: sample_ledger, sample_quote"
    )


def test_missing_type_lists_the_known_types(tmp_path, registry):
    path = write(tmp_path, "name: x\n")
    assert load_error(path, registry) == (
        f"{path}: type: required field is missing; known types: sample_ledger, sample_quote"
    )


def test_out_of_range_nested_field_names_file_and_path(tmp_path, registry):
    path = write(tmp_path, LEDGER_YAML.replace("min_erosion: 0.1", "min_erosion: 1.5"))
    assert load_error(path, registry) == (
        f"{path}: sample_ledger.rebalance.min_erosion: must be between 0 and 1"
    )


def test_missing_field_names_its_path(tmp_path, registry):
    path = write(tmp_path, LEDGER_YAML.replace("  max_hold_hours: 48\n", ""))
    assert load_error(path, registry) == (
        f"{path}: sample_ledger.rebalance.max_hold_hours: required field is missing"
    )


def test_wrong_type_names_its_path(tmp_path, registry):
    path = write(tmp_path, LEDGER_YAML.replace("max_hold_hours: 48", "max_hold_hours: soon"))
    message = load_error(path, registry)
    assert message.startswith(
        f"{path}: sample_ledger.rebalance.max_hold_hours: must be a valid integer"
    )


def test_extra_field_is_refused_by_name(tmp_path, registry):
    path = write(tmp_path, LEDGER_YAML + "leverage: 50\n")
    assert load_error(path, registry) == (
        f"{path}: sample_ledger.leverage: unknown field (not allowed here)"
    )


def test_list_items_are_addressed_by_index(tmp_path, registry):
    path = write(tmp_path, LEDGER_YAML.replace("[alpha, beta]", "[alpha, {name: beta}]"))
    assert load_error(path, registry) == f"{path}: sample_ledger.venues[1]: must be a valid string"


def test_every_problem_is_reported_at_once(tmp_path, registry):
    text = LEDGER_YAML.replace("min_erosion: 0.1", "min_erosion: -1") + "colour: red\n"
    message = load_error(write(tmp_path, text), registry)
    assert "sample_ledger.rebalance.min_erosion: must be between 0 and 1" in message
    assert "sample_ledger.colour: unknown field" in message
    assert "\n" not in message


def test_a_literal_mismatch_says_what_is_expected(registry):
    class Wrapper(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid")
        side: Literal["buy", "sell"]

    class SideConfig(StrategyConfig):
        type: Literal["side_test"]
        order: Wrapper

    class SideStrategy(StatefulStrategy[SideConfig, StatefulComponents]):
        config_model = SideConfig

        def run_cycle(self, now: datetime) -> CycleResult:
            return CycleResult(self.name, now)

    registry.register(SideStrategy)
    message = load_error({"type": "side_test", "name": "s", "order": {"side": "hold"}}, registry)
    assert message == "<config>: side_test.order.side: must be 'buy' or 'sell'"


def test_a_dict_source_can_be_named(registry):
    with pytest.raises(ConfigError, match=r"^strategies\[2\]: type: unknown strategy type"):
        load_strategy_config({"type": "nope"}, registry, source_name="strategies[2]")


def test_duplicate_yaml_keys_are_refused_with_their_line(tmp_path, registry):
    path = write(tmp_path, LEDGER_YAML + "size_usd: 1\n")
    assert load_error(path, registry) == f"{path}: line 9: duplicate key 'size_usd'"


def test_invalid_yaml_names_file_and_line(tmp_path, registry):
    path = write(tmp_path, "type: sample_ledger\nname: [unclosed\n")
    message = load_error(path, registry)
    assert message.startswith(f"{path}: line 3: invalid YAML")


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path, registry):
    path = write(tmp_path, "- type: sample_ledger\n")
    assert load_error(path, registry) == f"{path}: expected a mapping of fields, got list"


def test_a_missing_file_is_named(tmp_path, registry):
    path = tmp_path / "nope.yaml"
    assert load_error(path, registry) == f"{path}: cannot read the file: No such file or directory"


def test_a_non_string_type_is_refused(registry):
    assert load_error({"type": 7}, registry) == "<config>: type: must be a string, got int"


def test_lazy_entries_are_imported_when_first_named(tmp_path):
    registry = StrategyRegistry(
        {"sample_ledger": "tests.unit.strategies.sample_strategies:LedgerStrategy"}
    )
    assert registry.known_types() == ["sample_ledger"]
    assert registry.resolve("sample_ledger") is LedgerStrategy
    config = load_strategy_config(write(tmp_path, LEDGER_YAML), registry)
    assert isinstance(config, LedgerConfig)


def test_a_lazy_entry_must_point_at_a_strategy_declaring_that_type():
    registry = StrategyRegistry({"grid": "tests.unit.strategies.sample_strategies:LedgerStrategy"})
    with pytest.raises(TypeError, match="declares type 'sample_ledger'"):
        registry.resolve("grid")
    registry = StrategyRegistry({"grid": "tests.unit.strategies.sample_strategies:LedgerConfig"})
    with pytest.raises(TypeError, match="is not a strategy class"):
        registry.resolve("grid")


def test_one_type_cannot_be_registered_twice(registry):
    class Impostor(LedgerStrategy):
        pass

    registry.register(LedgerStrategy)  # the same class again is harmless
    with pytest.raises(ValueError, match="'sample_ledger' is already registered"):
        registry.register(Impostor)


def test_the_registry_refuses_configs_that_break_the_house_rules():
    class LooseConfig(StrategyConfig):
        model_config = ConfigDict(frozen=False, extra="ignore")
        type: Literal["loose"]

    class Loose(StatefulStrategy[LooseConfig, StatefulComponents]):  # type: ignore[type-var]
        config_model = LooseConfig

        def run_cycle(self, now: datetime) -> CycleResult:
            return CycleResult(self.name, now)

    with pytest.raises(TypeError, match="LooseConfig must keep frozen=True and extra='forbid'"):
        StrategyRegistry().register(Loose)

    class OpenTypeConfig(StrategyConfig):
        pass

    class OpenType(StatefulStrategy[OpenTypeConfig, StatefulComponents]):
        config_model = OpenTypeConfig

        def run_cycle(self, now: datetime) -> CycleResult:
            return CycleResult(self.name, now)

    with pytest.raises(TypeError, match="must be a Literal of one string"):
        StrategyRegistry().register(OpenType)


def test_register_strategy_decorator_fills_the_default_registry(monkeypatch):
    monkeypatch.setattr(factory, "default_registry", StrategyRegistry())
    assert register_strategy(QuoteStrategy) is QuoteStrategy
    assert factory.default_registry.resolve("sample_quote") is QuoteStrategy


def test_build_strategy_refuses_a_config_of_another_model(registry):
    class FakeLedger(StrategyConfig):
        type: Literal["sample_ledger"]

    with pytest.raises(ConfigError, match="LedgerStrategy needs a LedgerConfig, got FakeLedger"):
        build_strategy(
            FakeLedger(type="sample_ledger", name="x"),
            InMemoryKit(ManualClock(T0)),
            registry,
        )

"""Level 1: config validation on construction, the strategy name rules, cycle results."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

import pytest
from pydantic import ValidationError

from core.errors import ConfigError
from strategies.base_strategy import BaseStrategy, CycleResult, StrategyConfig, StrategyError
from strategies.components.kit import ComponentKit
from tests.unit.strategies.fakes import T0


class TinyConfig(StrategyConfig):
    type: Literal["tiny"]


class OtherConfig(StrategyConfig):
    type: Literal["other"]


class TinyStrategy(BaseStrategy[TinyConfig]):
    config_model = TinyConfig

    @classmethod
    def create(cls, config: TinyConfig, kit: ComponentKit) -> Self:
        return cls(config)  # needs no component

    def start(self) -> None:
        """Nothing to prepare."""

    def stop(self) -> None:
        """Nothing to wind down."""

    def run_cycle(self, now: datetime) -> CycleResult:
        return CycleResult(self.name, now)


def test_a_strategy_exposes_its_name_and_config():
    strategy = TinyStrategy(TinyConfig(type="tiny", name="tiny-1"))
    assert strategy.name == "tiny-1"
    assert strategy.config.type == "tiny"
    assert strategy.run_cycle(T0).ok


def test_a_strategy_refuses_another_strategys_config():
    with pytest.raises(
        ConfigError, match="TinyStrategy needs a TinyConfig config, got OtherConfig"
    ):
        TinyStrategy(OtherConfig(type="other", name="x"))  # type: ignore[arg-type]


def test_a_strategy_without_config_model_is_a_programming_error():
    class Nameless(BaseStrategy[TinyConfig]):
        @classmethod
        def create(cls, config: TinyConfig, kit: ComponentKit) -> Self:
            return cls(config)

        def start(self) -> None:
            """Nothing."""

        def stop(self) -> None:
            """Nothing."""

        def run_cycle(self, now: datetime) -> CycleResult:
            return CycleResult(self.name, now)

    with pytest.raises(TypeError, match="Nameless must set `config_model`"):
        Nameless(TinyConfig(type="tiny", name="t"))


@pytest.mark.parametrize("name", ["", "Has Space", "UPPER", "-dash-first", "x" * 51])
def test_instance_names_are_short_lowercase_identifiers(name):
    with pytest.raises(ValidationError):
        TinyConfig(type="tiny", name=name)


def test_configs_are_frozen_and_refuse_unknown_fields():
    config = TinyConfig(type="tiny", name="t")
    with pytest.raises(ValidationError):
        config.name = "u"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        TinyConfig(type="tiny", name="t", colour="red")  # type: ignore[call-arg]


def test_strategy_error_reads_as_one_line():
    error = StrategyError("arb", "rebalance", "TimeoutError", "venue slow")
    assert str(error) == "strategy arb: rebalance failed: TimeoutError: venue slow"
    result = CycleResult("arb", T0, error=error)
    assert not result.ok
    assert result.to_json() == {
        "strategy": "arb",
        "at": "2025-01-01T00:00:00+00:00",
        "ok": False,
        "actions": [],
        "results": [],
        "error": {
            "kind": "StrategyError",
            "strategy_name": "arb",
            "hook": "rebalance",
            "error_type": "TimeoutError",
            "message": "venue slow",
        },
    }

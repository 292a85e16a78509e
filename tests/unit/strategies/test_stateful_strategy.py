"""The stateful category: components checked at construction, accessors, guarded phases."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import ClassVar, Literal

import pytest

from core.clock import ManualClock
from core.enums import PositionStatus
from core.errors import ConfigError
from strategies.base_strategy import CycleResult, StrategyConfig
from strategies.categories.stateful_strategy import StatefulStrategy
from strategies.components.base_components import ComponentMissingError, StrategyComponents
from strategies.factory import in_memory_components
from tests.unit.strategies.fakes import T0, FakeVenue
from tests.unit.strategies.sample_strategies import LedgerConfig, LedgerStrategy


def ledger_config(**overrides: object) -> LedgerConfig:
    values: dict[str, object] = {
        "type": "sample_ledger",
        "name": "ledger",
        "symbol": "BTC",
        "venues": ["alpha", "beta"],
        "size_usd": "1000",
        "rebalance": {"min_erosion": "0.5", "max_hold_hours": 24},
    }
    values.update(overrides)
    return LedgerConfig.model_validate(values)


def venues() -> dict[str, FakeVenue]:
    return {"alpha": FakeVenue("alpha"), "beta": FakeVenue("beta")}


def test_a_missing_component_is_named_at_construction():
    components = StrategyComponents(clock=ManualClock(T0), exchanges=venues())
    with pytest.raises(ComponentMissingError) as err:
        LedgerStrategy(ledger_config(), components)
    assert str(err.value) == (
        "strategy ledger (LedgerStrategy) needs components that were not provided: "
        "event_sink, position_manager, state_manager"
    )
    assert isinstance(err.value, ConfigError)  # the CLI prints it as one line


def test_a_missing_venue_is_named_with_the_configured_ones():
    components = in_memory_components(ManualClock(T0), {"alpha": FakeVenue("alpha")})
    with pytest.raises(
        ComponentMissingError,
        match=r"ledger: no exchange client for venue 'beta' \(configured venues: alpha\)",
    ):
        LedgerStrategy(ledger_config(), components)


def test_a_cycle_opens_once_counts_cycles_and_audits():
    clock = ManualClock(T0)
    components = in_memory_components(clock, venues())
    strategy = LedgerStrategy(ledger_config(), components)

    first = strategy.run_cycle(clock.now())
    clock.advance(timedelta(minutes=5))
    second = strategy.run_cycle(clock.now())

    assert first.ok and second.ok
    (position,) = first.actions
    assert position.status == PositionStatus.OPENING
    assert (position.long_dex, position.short_dex) == ("alpha", "beta")
    assert second.actions == ()  # already holds an active position
    state = strategy.load_state()
    assert state.data == {"cycles": 2, "last_cycle_at": T0 + timedelta(minutes=5)}
    assert state.version == 2
    kinds = [e.kind for e in strategy.event_sink.recent(strategy_name="ledger")]
    assert kinds == ["ledger.opened", "position.opened"]


def test_an_exception_in_a_phase_is_a_failed_result_and_the_next_cycle_runs(caplog):
    clock = ManualClock(T0)
    strategy = LedgerStrategy(ledger_config(), in_memory_components(clock, venues()))
    calls = {"n": 0}

    def flaky() -> list[object]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("venue down")
        return ["ok"]

    failed = strategy.run_phase("monitor", T0, flaky)
    assert failed.error.hook == "monitor"
    assert failed.error.error_type == "ConnectionError"
    assert "strategy ledger: monitor failed: ConnectionError: venue down" in caplog.text
    assert strategy.run_phase("monitor", T0, flaky).actions == ("ok",)


def test_start_and_stop_are_recorded_in_the_audit_trail():
    strategy = LedgerStrategy(ledger_config(), in_memory_components(ManualClock(T0), venues()))
    strategy.start()
    strategy.stop()
    events = strategy.event_sink.recent(strategy_name="ledger")
    assert [e.kind for e in events] == ["strategy.stopped", "strategy.started"]
    assert events[0].entity_type == "strategy" and events[0].entity_id == "ledger"
    assert events[0].payload == {"type": "sample_ledger"}


class BareConfig(StrategyConfig):
    type: Literal["bare"]


class BareStrategy(StatefulStrategy[BareConfig]):
    """Needs nothing but a clock: every optional accessor must then say what is missing."""

    config_model = BareConfig
    required_components: ClassVar[frozenset[str]] = frozenset()

    def run_cycle(self, now: datetime) -> CycleResult:
        return self.run_phase("noop", now, list)


@pytest.mark.parametrize(
    "accessor", ["position_manager", "state_manager", "event_sink", "transfer_manager"]
)
def test_an_absent_optional_component_is_a_clear_error_when_used(accessor):
    strategy = BareStrategy(
        BareConfig(type="bare", name="bare"), StrategyComponents(ManualClock(T0))
    )
    with pytest.raises(
        ComponentMissingError, match=f"strategy bare: component '{accessor}' was not provided"
    ):
        getattr(strategy, accessor)
    strategy.start()  # no event sink: nothing to record, and no error
    assert strategy.run_cycle(T0).ok


def test_required_components_must_be_known_names():
    with pytest.raises(TypeError, match=r"unknown components \['position_mgr'\]"):

        class Typo(StatefulStrategy[BareConfig]):
            config_model = BareConfig
            required_components: ClassVar[frozenset[str]] = frozenset({"position_mgr"})

            def run_cycle(self, now: datetime) -> CycleResult:
                return self.run_phase("noop", now, list)


def test_transfer_manager_and_exchanges_are_reachable():
    marker = object()
    components = in_memory_components(ManualClock(T0), venues(), transfer_manager=marker)
    strategy = LedgerStrategy(ledger_config(), components)
    assert strategy.transfer_manager is marker
    assert strategy.exchange("beta").name == "beta"
    assert strategy.clock.now() == T0
    with pytest.raises(ComponentMissingError, match="configured venues: alpha, beta"):
        strategy.exchange("gamma")


def test_the_exchange_map_cannot_be_changed_after_injection():
    source = venues()
    components = in_memory_components(ManualClock(T0), source)
    source["gamma"] = FakeVenue("gamma")
    assert sorted(components.exchanges) == ["alpha", "beta"]
    with pytest.raises(TypeError):
        components.exchanges["gamma"] = FakeVenue("gamma")  # type: ignore[index]


def test_size_and_money_stay_decimal():
    strategy = LedgerStrategy(
        ledger_config(size_usd="1234.5"), in_memory_components(ManualClock(T0), venues())
    )
    (position,) = strategy.run_cycle(T0).actions
    assert position.size_usd == Decimal("1234.5")
    assert isinstance(position.size_usd, Decimal)

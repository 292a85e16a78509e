"""The stateful category: typed components from the kit, accessors, guarded phases."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal, Self

import pytest

from core.clock import ManualClock
from core.enums import PositionStatus
from core.errors import ConfigError
from strategies.base_strategy import CycleResult, StrategyConfig
from strategies.categories.stateful_strategy import StatefulComponents, StatefulStrategy
from strategies.components.base_components import ComponentMissingError
from strategies.components.kit import ComponentKit
from strategies.components.kits import InMemoryKit
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


def ledger(clock: ManualClock | None = None, **config: object) -> LedgerStrategy:
    return LedgerStrategy.create(
        ledger_config(**config), InMemoryKit(clock or ManualClock(T0), venues())
    )


def test_a_missing_venue_is_named_with_the_configured_ones():
    kit = InMemoryKit(ManualClock(T0), {"alpha": FakeVenue("alpha")})
    with pytest.raises(ComponentMissingError) as err:
        LedgerStrategy.create(ledger_config(), kit)
    assert str(err.value) == (
        "strategy ledger: no exchange client for venue 'beta' (configured venues: alpha)"
    )
    assert isinstance(err.value, ConfigError)  # the CLI prints it as one line


def test_a_cycle_opens_once_counts_cycles_and_audits():
    clock = ManualClock(T0)
    strategy = ledger(clock)

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
    kinds = [e.kind for e in strategy.audit.recent()]
    assert kinds == ["ledger.opened", "position.opened"]


def test_an_exception_in_a_phase_is_a_failed_result_and_the_next_cycle_runs(caplog):
    strategy = ledger()
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
    strategy = ledger()
    strategy.start()
    strategy.stop()
    events = strategy.audit.recent()
    assert [e.kind for e in events] == ["strategy.stopped", "strategy.started"]
    assert events[0].entity_type == "strategy" and events[0].entity_id == "ledger"
    assert events[0].payload == {"type": "sample_ledger"}


class BareConfig(StrategyConfig):
    type: Literal["bare"]


class BareStrategy(StatefulStrategy[BareConfig, StatefulComponents]):
    """Trades on no venue: it gets every component but no exchange client."""

    config_model = BareConfig

    @classmethod
    def create(cls, config: BareConfig, kit: ComponentKit) -> Self:
        return cls(config, StatefulComponents.from_kit(kit, config))

    def run_cycle(self, now: datetime) -> CycleResult:
        return self.run_phase("noop", now, list)


def test_a_venue_the_config_does_not_name_is_a_clear_error_when_asked_for():
    strategy = BareStrategy.create(
        BareConfig(type="bare", name="bare"), InMemoryKit(ManualClock(T0), venues())
    )
    assert strategy.components.exchanges == {}
    with pytest.raises(
        ComponentMissingError,
        match=r"strategy bare: no exchange client for venue 'alpha' \(configured venues: none\)",
    ):
        strategy.exchange("alpha")
    strategy.start()
    assert strategy.run_cycle(T0).ok


def test_the_configured_venues_and_the_clock_are_reachable():
    strategy = ledger()
    assert strategy.exchange("beta").name == "beta"
    assert strategy.clock.now() == T0
    with pytest.raises(ComponentMissingError, match="configured venues: alpha, beta"):
        strategy.exchange("gamma")


def test_the_exchange_map_cannot_be_changed_after_injection():
    source = venues()
    kit = InMemoryKit(ManualClock(T0), source)
    source["gamma"] = FakeVenue("gamma")
    with pytest.raises(ComponentMissingError):
        kit.exchange("gamma")
    strategy = LedgerStrategy.create(ledger_config(), kit)
    assert sorted(strategy.components.exchanges) == ["alpha", "beta"]
    with pytest.raises(TypeError):
        strategy.components.exchanges["gamma"] = FakeVenue("gamma")  # type: ignore[index]


def test_the_kit_builds_each_component_once_and_shares_it():
    kit = InMemoryKit(ManualClock(T0), venues())
    first = LedgerStrategy.create(ledger_config(), kit)
    second = LedgerStrategy.create(ledger_config(), kit)
    assert first.position_manager is second.position_manager is kit.positions()
    assert kit.events() is kit.events()


def test_size_and_money_stay_decimal():
    strategy = ledger(size_usd="1234.5")
    (position,) = strategy.run_cycle(T0).actions
    assert position.size_usd == Decimal("1234.5")
    assert isinstance(position.size_usd, Decimal)

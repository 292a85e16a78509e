"""The stateless template: hook order, error capture, default market data and execution."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal, Self

import pytest

from core.clock import ManualClock
from core.enums import OrderSide, OrderStatus, OrderType
from core.errors import ConfigError
from exchanges.base import OrderRequest, Position, TransientExchangeError
from strategies.base_strategy import CycleResult, StrategyConfig
from strategies.categories.stateless_strategy import (
    Action,
    CancelOrder,
    MarketSnapshot,
    PlaceOrder,
    StatelessComponents,
    StatelessStrategy,
    StatelessStrategyConfig,
    spread_bps,
)
from strategies.components.kit import ComponentKit
from strategies.components.kits import InMemoryKit
from tests.unit.strategies.fakes import T0, FakeVenue
from tests.unit.strategies.sample_strategies import QuoteConfig, QuoteStrategy


class ProbeConfig(StatelessStrategyConfig):
    type: Literal["probe"]


@dataclass(frozen=True, slots=True)
class Shout(Action):
    """An action the default executor does not know."""


class ProbeStrategy(StatelessStrategy[ProbeConfig, StatelessComponents]):
    """Records every hook call; `fail_in` makes one hook raise once."""

    config_model = ProbeConfig

    @classmethod
    def create(cls, config: ProbeConfig, kit: ComponentKit) -> Self:
        return cls(config, StatelessComponents.from_kit(kit, config))

    def __init__(self, config: ProbeConfig, components: StatelessComponents) -> None:
        super().__init__(config, components)
        self.calls: list[str] = []
        self.fail_in: str | None = None
        self.actions: list[Action] = []
        self.errors: list[CycleResult] = []

    def _hook(self, name: str) -> None:
        self.calls.append(name)
        if self.fail_in == name:
            self.fail_in = None
            raise RuntimeError(f"{name} exploded")

    def fetch_market(self, now: datetime) -> MarketSnapshot:
        self._hook("fetch_market")
        return super().fetch_market(now)

    def decide(self, snapshot: MarketSnapshot, now: datetime) -> Sequence[Action]:
        self._hook("decide")
        return list(self.actions)

    def execute(self, actions: Sequence[Action], now: datetime) -> Sequence[object]:
        self._hook("execute")
        return super().execute(actions, now)

    def on_start(self) -> None:
        self._hook("on_start")

    def on_stop(self) -> None:
        self._hook("on_stop")

    def on_error(self, failed: CycleResult, now: datetime) -> None:
        self.errors.append(failed)
        self._hook("on_error")


def make_probe(venue: FakeVenue | None = None) -> ProbeStrategy:
    venue = venue or FakeVenue()
    config = ProbeConfig(type="probe", name="probe-1", venue=venue.name, symbol="BTC")
    return ProbeStrategy(config, StatelessComponents(ManualClock(T0), venue))


def order(cid: str, qty: str = "0.5") -> PlaceOrder:
    return PlaceOrder(
        OrderRequest(cid, "BTC", OrderSide.BUY, OrderType.LIMIT, Decimal(qty), Decimal(100))
    )


def test_hooks_run_in_order_and_execute_gets_the_decided_actions():
    strategy = make_probe()
    strategy.actions = [order("a"), order("b")]
    result = strategy.run_cycle(T0)
    assert strategy.calls == ["fetch_market", "decide", "execute"]
    assert result.ok and result.error is None
    assert result.actions == tuple(strategy.actions)
    assert [o.client_order_id for o in result.results] == ["a", "b"]


def test_nothing_decided_means_nothing_executed():
    strategy = make_probe()
    result = strategy.run_cycle(T0)
    assert strategy.calls == ["fetch_market", "decide"]
    assert result.ok and result.actions == () and result.results == ()


@pytest.mark.parametrize("hook", ["fetch_market", "decide", "execute"])
def test_a_failing_hook_becomes_a_strategy_error_and_the_next_cycle_runs(hook, caplog):
    strategy = make_probe()
    strategy.actions = [order("a")]
    strategy.fail_in = hook

    failed = strategy.run_cycle(T0)

    assert not failed.ok
    assert failed.error.strategy_name == "probe-1"
    assert failed.error.hook == hook
    assert failed.error.error_type == "RuntimeError"
    assert failed.error.message == f"{hook} exploded"
    assert f"strategy probe-1: {hook} failed" in caplog.text
    assert strategy.errors == [failed]
    assert failed.to_json()["error"]["hook"] == hook

    strategy.calls.clear()
    following = strategy.run_cycle(T0 + timedelta(minutes=1))
    assert following.ok
    assert strategy.calls == ["fetch_market", "decide", "execute"]


def test_a_failing_on_error_handler_does_not_hide_the_result(caplog):
    strategy = make_probe()
    strategy.fail_in = "decide"

    def broken(failed: CycleResult, now: datetime) -> None:
        raise ValueError("alerting is down")

    strategy.on_error = broken  # type: ignore[method-assign]
    result = strategy.run_cycle(T0)
    assert result.error.hook == "decide"
    assert "on_error failed" in caplog.text


def test_venue_errors_are_captured_like_any_other():
    venue = FakeVenue()
    venue.fail_book_with = TransientExchangeError("fakedex", "rate limited")
    result = make_probe(venue).run_cycle(T0)
    assert result.error.hook == "fetch_market"
    assert result.error.error_type == "TransientExchangeError"
    assert "rate limited" in str(result.error)


def test_a_rejected_order_keeps_what_was_done_before_it():
    venue = FakeVenue()
    venue.reject_client_ids.add("b")
    strategy = make_probe(venue)
    strategy.actions = [order("a"), order("b"), order("c")]
    result = strategy.run_cycle(T0)
    assert result.error.hook == "execute"
    assert "action 1 (PlaceOrder) failed" in result.error.message
    assert [o.client_order_id for o in result.results] == ["a"]
    assert set(venue.orders) == {"a"}  # "c" was never sent


def test_an_action_the_default_executor_does_not_know_is_an_error_naming_it():
    strategy = make_probe()
    strategy.actions = [Shout()]
    result = strategy.run_cycle(T0)
    assert result.error.hook == "execute"
    assert "override execute() to carry out Shout" in result.error.message


def test_cancel_order_action_cancels_on_the_configured_symbol():
    venue = FakeVenue()
    strategy = make_probe(venue)
    strategy.actions = [order("a")]
    strategy.run_cycle(T0)
    strategy.actions = [CancelOrder("a")]
    result = strategy.run_cycle(T0)
    assert result.ok
    assert venue.orders["a"].status == OrderStatus.CANCELLED


def test_run_cycle_cannot_be_overridden():
    with pytest.raises(TypeError, match="must not override run_cycle"):

        class Sneaky(StatelessStrategy[ProbeConfig, StatelessComponents]):
            config_model = ProbeConfig

            def decide(self, snapshot: MarketSnapshot, now: datetime) -> Sequence[Action]:
                return []

            def run_cycle(self, now: datetime) -> CycleResult:  # type: ignore[misc]
                return CycleResult(self.name, now)


def test_a_stateless_config_must_name_venue_and_symbol():
    class PlainConfig(StrategyConfig):
        type: Literal["plain"]

    with pytest.raises(TypeError, match="must derive from StatelessStrategyConfig"):

        class Plain(StatelessStrategy):  # type: ignore[type-arg]
            config_model = PlainConfig


def test_an_unknown_venue_fails_at_construction_naming_it():
    kit = InMemoryKit(ManualClock(T0), {"fakedex": FakeVenue()})
    config = ProbeConfig(type="probe", name="probe-1", venue="hyperliquid", symbol="BTC")
    with pytest.raises(
        ConfigError,
        match=r"probe-1: no exchange client for venue 'hyperliquid' \(configured venues: fakedex\)",
    ):
        ProbeStrategy.create(config, kit)


def test_naive_times_are_refused_before_any_hook_runs():
    strategy = make_probe()
    with pytest.raises(ValueError, match="naive datetime"):
        strategy.run_cycle(datetime(2025, 1, 1))
    assert strategy.calls == []


def test_start_and_stop_call_their_hooks():
    strategy = make_probe()
    strategy.start()
    strategy.stop()
    assert strategy.calls == ["on_start", "on_stop"]


def test_default_fetch_market_reads_book_position_and_open_orders_of_the_symbol():
    venue = FakeVenue(bid="99", ask="101")
    venue.held = [
        Position(
            "fakedex",
            "ETH",
            Decimal(3),
            Decimal(1),
            Decimal(1),
            Decimal(0),
            None,
            Decimal(1),
            Decimal(1),
        ),
        Position(
            "fakedex",
            "BTC",
            Decimal("-0.2"),
            Decimal(100),
            Decimal(100),
            Decimal(0),
            None,
            Decimal(5),
            Decimal(2),
        ),
    ]
    strategy = make_probe(venue)
    snapshot = strategy.fetch_market(T0)
    assert snapshot.mid == Decimal(100)
    assert snapshot.spread_bps == Decimal(200)
    assert snapshot.position_qty == Decimal("-0.2")
    assert snapshot.open_orders == ()
    assert snapshot.taken_at == T0
    assert venue.calls == ["top_of_book:BTC", "positions", "open_orders:BTC"]


def test_a_flat_position_reads_as_none():
    venue = FakeVenue()
    venue.held = [
        Position(
            "fakedex",
            "BTC",
            Decimal(0),
            Decimal(1),
            Decimal(1),
            Decimal(0),
            None,
            Decimal(0),
            Decimal(1),
        )
    ]
    snapshot = make_probe(venue).fetch_market(T0)
    assert snapshot.position is None and snapshot.position_qty == 0


def test_spread_of_a_broken_book_is_an_error_not_a_division_by_zero():
    venue = FakeVenue(bid="0", ask="0")
    with pytest.raises(ValueError, match="no valid mid price"):
        spread_bps(venue.top_of_book("BTC"))


def test_client_order_ids_are_deterministic_per_cycle_and_tag():
    strategy = make_probe()
    first = strategy.client_order_id(T0, "bid")
    assert first == strategy.client_order_id(T0, "bid")
    assert len(first) == 32
    assert first != strategy.client_order_id(T0, "ask")
    assert first != strategy.client_order_id(T0 + timedelta(seconds=1), "bid")


def quote_strategy(venue: FakeVenue) -> QuoteStrategy:
    config = QuoteConfig(
        type="sample_quote",
        name="quote",
        venue=venue.name,
        symbol="BTC",
        order_usd=Decimal(500),
        max_spread_bps=Decimal(10),
    )
    return QuoteStrategy.create(config, InMemoryKit(ManualClock(T0), {venue.name: venue}))


def test_a_redelivered_cycle_sends_the_same_client_order_id_and_places_no_second_order():
    venue = FakeVenue(bid="100", ask="100.05")
    first = quote_strategy(venue).run_cycle(T0)
    assert first.ok and len(venue.orders) == 1

    # The worker died before recording the outcome; a fresh instance re-runs the same tick
    # while the venue's open-order list does not show the order yet.
    lagging_view = FakeVenue(bid="100", ask="100.05")
    again = quote_strategy(lagging_view).run_cycle(T0)
    assert again.actions == first.actions
    replayed = quote_strategy(venue).execute(again.actions, T0)
    assert replayed == list(first.results)
    assert len(venue.orders) == 1


def test_cycle_result_to_json_is_plain_json():
    strategy = make_probe()
    strategy.actions = [order("a", qty="0.25")]
    payload = strategy.run_cycle(T0).to_json()
    assert payload["ok"] is True
    assert payload["at"] == "2025-01-01T00:00:00+00:00"
    assert payload["actions"][0]["kind"] == "PlaceOrder"
    assert payload["actions"][0]["request"]["quantity"] == "0.25"
    assert payload["results"][0]["status"] == "open"

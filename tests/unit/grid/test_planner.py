"""The planner alone: decisions from hand-made snapshots, as data."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from core.enums import OrderSide, OrderStatus, OrderType
from strategies.implementations.grid.actions import (
    CancelGridOrder,
    CommitGridState,
    RecordGridEvent,
    SubmitGridOrder,
)
from strategies.implementations.grid.models import (
    GridDirection,
    GridLevel,
    GridState,
    GridStateError,
    LevelStage,
    run_id_for,
)
from strategies.implementations.grid.orders import GridSizeError
from strategies.implementations.grid.planner import plan_cycle
from tests.unit.grid.helpers import NAME, NOW, config, record, snapshot


def _of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


def _first_cycle(cfg=None):
    cfg = cfg or config()
    actions = plan_cycle(NAME, cfg, snapshot(), NOW)
    (commit,) = _of(actions, CommitGridState)
    return cfg, commit.state, actions


def test_the_first_cycle_saves_a_new_run_and_bids_at_the_touch():
    _, state, actions = _first_cycle()
    assert [type(a).__name__ for a in actions] == [
        "CommitGridState",
        "RecordGridEvent",
        "SubmitGridOrder",
    ]
    assert state.run_id == run_id_for(NAME, NOW)
    (submit,) = _of(actions, SubmitGridOrder)
    intent = submit.intent
    assert intent.client_order_id == f"grid-{state.run_id}-1-o0"
    assert (intent.side, intent.order_type, intent.price, intent.quantity) == (
        OrderSide.BUY,
        OrderType.LIMIT,
        Decimal("2999.70"),
        Decimal("0.1"),
    )
    assert (intent.purpose, intent.reduce_only, intent.post_only) == ("grid_open", False, False)
    assert (state.next_seq, state.last_open_at) == (2, NOW)


def test_a_disabled_grid_does_nothing():
    assert plan_cycle(NAME, config(enabled=False), snapshot(), NOW) == []


def test_a_saved_but_unsent_open_is_sent_again_with_the_same_id():
    cfg, state, actions = _first_cycle()
    again = plan_cycle(NAME, cfg, snapshot(state, version=1), NOW + timedelta(seconds=5))
    assert again == _of(actions, SubmitGridOrder)


def test_a_resting_open_waits_then_times_out():
    cfg, state, actions = _first_cycle(config(open_timeout_seconds=60))
    intent = _of(actions, SubmitGridOrder)[0].intent
    resting = {intent.client_order_id: record(intent, OrderStatus.OPEN)}
    assert plan_cycle(NAME, cfg, snapshot(state, 1, resting), NOW + timedelta(seconds=59)) == []
    late = plan_cycle(NAME, cfg, snapshot(state, 1, resting), NOW + timedelta(seconds=60))
    assert late == [CancelGridOrder(intent.client_order_id, "open order timed out")]


def test_a_filled_open_gets_its_take_profit_and_the_next_open_goes_out():
    cfg, state, actions = _first_cycle()
    intent = _of(actions, SubmitGridOrder)[0].intent
    filled = {intent.client_order_id: record(intent, OrderStatus.FILLED, "0.1", "2999.70", "0.04")}
    later = NOW + timedelta(minutes=1)
    actions = plan_cycle(
        NAME, cfg, snapshot(state, 1, filled, bid="2989.70", position_qty="0.1"), later
    )
    tp, new_open = (a.intent for a in _of(actions, SubmitGridOrder))
    assert tp.client_order_id == f"grid-{state.run_id}-1-t0"
    # 2999.70 * 1.01 = 3029.697, rounded up to the tick
    assert (tp.side, tp.price, tp.quantity, tp.reduce_only) == (
        OrderSide.SELL,
        Decimal("3029.70"),
        Decimal("0.1"),
        True,
    )
    assert (new_open.client_order_id, new_open.price) == (
        f"grid-{state.run_id}-2-o0",
        Decimal("2989.70"),
    )
    (commit,) = _of(actions, CommitGridState)
    level = commit.state.levels[0]
    assert (level.stage, level.entry_price, level.open_fee) == (
        LevelStage.CLOSING,
        Decimal("2999.70"),
        Decimal("0.04"),
    )
    assert "grid.open_filled" in [e.kind for e in _of(actions, RecordGridEvent)]


def test_a_short_grid_takes_profit_below_rounded_down():
    cfg = config(direction="short")
    state = GridState.fresh(NAME, GridDirection.SHORT, NOW)
    level = GridLevel(1, LevelStage.HOLDING, Decimal("3000.30"), Decimal("0.1"), NOW)
    level = replace(level, qty=Decimal("0.1"), entry_price=Decimal("3000.30"))
    state = replace(state, levels=(level,), next_seq=2, last_open_at=NOW)
    actions = plan_cycle(NAME, cfg, snapshot(state, 1, position_qty="-0.1"), NOW)
    tp = _of(actions, SubmitGridOrder)[0].intent
    # 3000.30 * 0.99 = 2970.297, rounded down to the tick
    assert (tp.side, tp.price) == (OrderSide.BUY, Decimal("2970.29"))


def test_a_stop_loss_in_percent_closes_the_whole_position():
    cfg = config(stop_loss_pct="5")
    state = replace(GridState.fresh(NAME, GridDirection.LONG, NOW), last_open_at=NOW)
    at_level = snapshot(state, 1, bid="2849.90", ask="2850.10", position_qty="0.3", entry="3000")
    actions = plan_cycle(NAME, cfg, at_level, NOW)
    (commit,) = _of(actions, CommitGridState)
    assert (commit.state.status.value, commit.state.stop_reason, commit.state.closing) == (
        "stopped",
        "stop_loss",
        True,
    )
    (close,) = (a.intent for a in _of(actions, SubmitGridOrder))
    assert (close.order_type, close.side, close.quantity, close.reduce_only) == (
        OrderType.MARKET,
        OrderSide.SELL,
        Decimal("0.3"),
        True,
    )
    above = snapshot(state, 1, bid="2850.10", ask="2850.30", position_qty="0.3", entry="3000")
    kept_going = plan_cycle(NAME, cfg, above, NOW)
    assert [a.intent.purpose for a in _of(kept_going, SubmitGridOrder)] == ["grid_open"]


def test_a_run_started_in_the_other_direction_is_refused():
    state = GridState.fresh(NAME, GridDirection.SHORT, NOW)
    with pytest.raises(GridStateError, match="the config says long"):
        plan_cycle(NAME, config(), snapshot(state, 1), NOW)


def test_an_order_size_below_the_venue_minimum_is_an_error_naming_it():
    with pytest.raises(GridSizeError, match=r"order_notional_usd 10 at 2999\.70 gives 0\.00 ETH"):
        plan_cycle(NAME, config(order_qty=None, order_notional_usd="10"), snapshot(), NOW)


def test_an_order_size_in_usd_is_rounded_down_to_the_step():
    actions = plan_cycle(NAME, config(order_qty=None, order_notional_usd="100"), snapshot(), NOW)
    assert _of(actions, SubmitGridOrder)[0].intent.quantity == Decimal("0.03")  # 0.0333...


def test_a_part_filled_take_profit_books_its_part_and_replaces_the_rest():
    cfg = config()
    level = GridLevel(
        1,
        LevelStage.CLOSING,
        Decimal("2999.70"),
        Decimal("0.1"),
        NOW,
        qty=Decimal("0.1"),
        entry_price=Decimal("2999.70"),
        open_fee=Decimal("0.04"),
        tp_price=Decimal("3029.70"),
    )
    state = replace(
        GridState.fresh(NAME, GridDirection.LONG, NOW),
        levels=(level,),
        next_seq=2,
        last_open_at=NOW,
    )
    tp = _of(plan_cycle(NAME, cfg, snapshot(state, 1, position_qty="0.1"), NOW), SubmitGridOrder)
    intent = tp[0].intent
    cut = {intent.client_order_id: record(intent, OrderStatus.CANCELLED, "0.04", "3029.70", "0.01")}
    actions = plan_cycle(NAME, cfg, snapshot(state, 1, cut, position_qty="0.06"), NOW)
    (commit,) = _of(actions, CommitGridState)
    left = commit.state.levels[0]  # (a new open joined it)
    assert (left.qty, left.open_fee, left.tp_attempt, left.stage) == (
        Decimal("0.06"),
        Decimal("0.024"),
        1,
        LevelStage.CLOSING,
    )
    # 0.04 * 30 gross, minus 40 % of the open fee and the close fee
    assert commit.state.totals.realized_pnl == Decimal("1.2") - Decimal("0.016") - Decimal("0.01")
    (again,) = (a.intent for a in _of(actions, SubmitGridOrder) if a.intent.reduce_only)
    assert (again.client_order_id, again.quantity, again.price) == (
        f"grid-{state.run_id}-1-t1",
        Decimal("0.06"),
        Decimal("3029.70"),
    )


def test_a_part_filled_open_that_was_cancelled_keeps_its_filled_part():
    cfg, state, actions = _first_cycle()
    intent = _of(actions, SubmitGridOrder)[0].intent
    cut = {intent.client_order_id: record(intent, OrderStatus.CANCELLED, "0.03", "2999.70")}
    later = NOW + timedelta(minutes=1)
    actions = plan_cycle(NAME, cfg, snapshot(state, 1, cut, position_qty="0.03"), later)
    (commit,) = _of(actions, CommitGridState)
    assert (commit.state.levels[0].qty, commit.state.levels[0].stage) == (
        Decimal("0.03"),
        LevelStage.CLOSING,
    )

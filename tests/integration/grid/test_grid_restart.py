"""Restarts, redelivered cycles, crashes between steps and lost state: never a duplicate order.

Each cycle already runs in a fresh strategy instance; these tests also cut a cycle short at
the points where a worker can die, and delete the stored state outright.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from core.enums import OrderSide, OrderStatus, OrderType
from exchanges.base import OrderRequest
from strategies.implementations.grid.actions import CommitGridState
from tests.integration.grid.conftest import ACCOUNT, MAKER, SYMBOL, VENUE, at


def _counts(grid) -> tuple[int, int, int]:
    stored = grid.components().state().load(grid.config["name"])
    return len(grid.venue_orders()), len(grid.journal()), stored.version


def test_a_redelivered_cycle_at_the_same_time_adds_nothing(make_grid):
    grid = make_grid()
    grid.marks(3000, 2990, 2980)
    for minute in range(3):
        grid.cycle(minute)
        before = _counts(grid)
        again = grid.cycle(minute)  # the same `now`, a new instance: Celery redelivery
        assert _counts(grid) == before
        assert again.actions == ()


def test_a_crash_after_saving_the_plan_sends_the_order_once(make_grid):
    grid = make_grid()
    grid.marks(3000, 2990)
    now = at(0) + timedelta(seconds=30)
    grid.clock.set(now)
    strategy = grid.build()
    actions = strategy.decide(strategy.fetch_market(now), now)
    commit = [a for a in actions if isinstance(a, CommitGridState)]
    strategy.execute(commit, now)  # the worker dies right after the state is saved
    assert grid.venue_orders() == [] and grid.journal() == []
    for _ in range(2):
        grid.cycle(0)
    orders = grid.venue_orders()
    assert [(o.client_order_id, o.price) for o in orders] == [
        (f"grid-{grid.state().run_id}-1-o0", Decimal("2999.70"))
    ]


class _DiesAfterSending:
    """The paper venue, but the worker dies after the order reached the venue."""

    def __init__(self, venue) -> None:
        self._venue = venue
        self.name = venue.name
        self.account = venue.account

    def place_order(self, request: OrderRequest):
        self._venue.place_order(request)
        raise RuntimeError("worker killed before the venue's answer was recorded")

    def __getattr__(self, name: str):
        return getattr(self._venue, name)


def test_a_crash_while_sending_is_resolved_by_lookup_not_by_resending(make_grid):
    grid = make_grid()
    grid.marks(3000, 2990, 2980)
    real_venue = grid.venue
    grid.venue = _DiesAfterSending(real_venue)
    grid.clock.set(at(0) + timedelta(seconds=30))
    failed = grid.build().run_cycle(grid.clock.now())
    assert failed.error is not None and failed.error.hook == "execute"
    (record,) = grid.journal()
    assert record.status is OrderStatus.SENT
    grid.venue = real_venue
    grid.cycle(0)
    grid.cycle(1)
    run_id = grid.state().run_id
    assert [o.client_order_id for o in grid.venue_orders()] == [
        f"grid-{run_id}-1-o0",
        f"grid-{run_id}-1-t0",
        f"grid-{run_id}-2-o0",
    ]


@pytest.mark.parametrize("lost_after", [2, 3])
def test_lost_state_is_rebuilt_from_the_journal_and_the_venue(make_grid, lost_after):
    grid = make_grid()
    grid.marks(3000, 2990, 2980, 3030, 2970, 3010)
    for minute in range(lost_after + 1):
        grid.cycle(minute)
    before = grid.state()
    orders_before = len(grid.venue_orders())
    grid.components().state().delete(grid.config["name"])
    grid.clock.set(at(lost_after) + timedelta(seconds=45))  # before the next tick
    grid.build().start()  # rebuilds and stores the state before trading resumes
    rebuilt = grid.state()
    assert [(lv.seq, lv.stage, lv.qty, lv.entry_price, lv.tp_price) for lv in rebuilt.levels] == [
        (lv.seq, lv.stage, lv.qty, lv.entry_price, lv.tp_price) for lv in before.levels
    ]
    assert (rebuilt.run_id, rebuilt.next_seq, rebuilt.totals) == (
        before.run_id,
        before.next_seq,
        before.totals,
    )
    assert len(grid.venue_orders()) == orders_before
    for minute in range(lost_after + 1, 6):
        grid.cycle(minute)
    # The same result as the uninterrupted run in test_grid_trading.py.
    assert grid.state().totals.realized_pnl == Decimal("8.6995815")
    assert len(grid.venue_orders()) == 7


def test_a_level_closed_outside_the_grid_is_written_off_without_an_order_storm(make_grid):
    grid = make_grid()
    grid.marks(3000, 2990, 2995, 2996, 2997, 2998)
    grid.cycle(0)
    grid.cycle(1)
    grid.clock.set(at(1) + timedelta(seconds=45))
    grid.venue.place_order(
        OrderRequest("manual-close", SYMBOL, OrderSide.SELL, OrderType.MARKET, Decimal("0.1"))
    )
    for minute in range(2, 6):
        grid.cycle(minute)
    state = grid.state()
    run_id = state.run_id
    # Flagged at 00:02, its take-profit cancelled at 00:03, written off at 00:04.
    assert [(lv.seq, lv.stage.value) for lv in state.levels] == [(2, "opening")]
    assert state.totals.realized_pnl == -Decimal("2999.70") * Decimal("0.1") * MAKER
    assert [(o.client_order_id, o.status) for o in grid.venue_orders()] == [
        (f"grid-{run_id}-1-o0", "filled"),
        (f"grid-{run_id}-1-t0", "cancelled"),
        (f"grid-{run_id}-2-o0", "open"),
        ("manual-close", "filled"),
    ]
    sink = grid.components().events()
    kinds = [e.kind for e in sink.recent(50, grid.config["name"])]
    assert {"grid.level_uncovered", "grid.level_written_off"} <= set(kinds)
    assert (grid.venue.name, grid.venue.account) == (VENUE, ACCOUNT)


def test_the_operators_stop_cancels_resting_opens_and_keeps_take_profits(make_grid):
    grid = make_grid()
    grid.marks(3000, 2990, 2990)
    grid.cycle(0)
    grid.cycle(1)
    strategy = grid.build()
    strategy.stop()
    run_id = grid.state().run_id
    assert [(o.client_order_id, o.status) for o in grid.venue_orders()] == [
        (f"grid-{run_id}-1-o0", "filled"),
        (f"grid-{run_id}-1-t0", "open"),
        (f"grid-{run_id}-2-o0", "cancelled"),
    ]
    grid.cycle(2)  # restarted: the cancelled open is dropped, a new one goes out
    assert [lv.seq for lv in grid.state().levels] == [1, 3]
    report = grid.build().report()
    assert report["levels"] == {"opening": 1, "holding": 0, "closing": 1}
    assert (report["status"], report["take_profits"]) == ("running", 0)

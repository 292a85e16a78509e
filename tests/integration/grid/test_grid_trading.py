"""The grid trading on the paper venue: fills, take-profits, PnL, limits, pause and stops."""

from __future__ import annotations

import itertools
from decimal import Decimal

from tests.integration.exchanges.conftest import ledger_by_kind
from tests.integration.grid.conftest import ACCOUNT, MAKER, TAKER, VENUE


def test_oscillating_price_realizes_the_hand_computed_pnl(make_grid):
    grid = make_grid()
    grid.marks(3000, 2990, 2980, 3030, 2970, 3010)
    for minute in range(6):
        grid.cycle(minute)
    # Opens rest at the bid (mark - 1 bp, floored to the 0.01 tick) and fill as maker when a
    # later mark reaches them; each take-profit is the fill * 1.01, rounded up to the tick:
    #   L1 2999.70 -> 3029.70 (3029.697)   L2 2989.70 -> 3019.60 (3019.597)
    #   L3 2979.70 -> 3009.50 (3009.497)   L4 2969.70 still resting at the end
    gross = (Decimal("30.00") + Decimal("29.90") + Decimal("29.80")) * Decimal("0.1")
    traded = Decimal("2999.70") + Decimal("3029.70") + Decimal("2989.70")
    traded += Decimal("3019.60") + Decimal("2979.70") + Decimal("3009.50")
    fees = traded * Decimal("0.1") * MAKER
    assert (gross, fees) == (Decimal("8.970"), Decimal("0.2704185"))
    state = grid.state()
    assert state.totals.take_profits == 3
    assert state.totals.fees == fees
    assert state.totals.realized_pnl == gross - fees == Decimal("8.6995815")
    # The venue agrees: flat again, so its average-cost PnL equals the sum of the levels.
    ledger = ledger_by_kind(grid.engine, VENUE, ACCOUNT)
    assert ledger["realized_pnl"] == gross
    assert ledger["trading_fee"] == -fees
    assert grid.position() is None
    assert [(lv.seq, lv.stage.value, lv.open_price) for lv in state.levels] == [
        (4, "opening", Decimal("2969.70"))
    ]
    assert len(grid.venue_orders()) == 7  # four opens, three take-profits


def test_short_grid_sells_first_and_takes_profit_below(make_grid):
    grid = make_grid(direction="short")
    grid.marks(3000, 3010, 3020, 2970, 3030, 2990)
    for minute in range(6):
        grid.cycle(minute)
    # Opens rest at the ask (mark + 1 bp, ceiled to the tick); take-profits at fill * 0.99,
    # floored: 3000.30 -> 2970.29, 3010.31 -> 2980.20, 3020.31 -> 2990.10.
    gross = (Decimal("30.01") + Decimal("30.11") + Decimal("30.21")) * Decimal("0.1")
    fees = Decimal("17971.51") * Decimal("0.1") * MAKER
    state = grid.state()
    assert state.totals.take_profits == 3
    assert state.totals.realized_pnl == gross - fees == Decimal("8.76342735")
    ledger = ledger_by_kind(grid.engine, VENUE, ACCOUNT)
    assert (ledger["realized_pnl"], ledger["trading_fee"]) == (gross, -fees)
    sides = {
        (o.client_order_id.split("-")[3][0], o.side, o.reduce_only) for o in grid.venue_orders()
    }
    assert sides == {("o", "sell", False), ("t", "buy", True)}


def test_boost_opens_post_only_and_takes_profit_at_market(make_grid):
    grid = make_grid(boost=True)
    grid.marks(3000, 2990, 2990)
    for minute in range(3):
        grid.cycle(minute)
    orders = grid.venue_orders()
    assert [(o.order_type, o.post_only, o.reduce_only) for o in orders[:2]] == [
        ("limit", True, False),
        ("market", False, True),
    ]
    # Open 2999.70 as maker; the market close at mark 2990 fills 1 bp (+ size impact) lower,
    # floored to the tick: 2990 * (1 - 1.001495 bp) = 2989.7005 -> 2989.70, taker fee.
    assert orders[1].avg_fill_price == Decimal("2989.70")
    gross = (Decimal("2989.70") - Decimal("2999.70")) * Decimal("0.1")
    fees = Decimal("0.1") * (Decimal("2999.70") * MAKER + Decimal("2989.70") * TAKER)
    assert grid.state().totals.realized_pnl == gross - fees


def test_max_orders_caps_the_levels_holding_inventory(make_grid):
    grid = make_grid(max_orders=3)
    grid.marks(3000, 2990, 2980, 2970, 2960, 2950, 2940)
    for minute in range(7):
        grid.cycle(minute)
    opens = [o for o in grid.venue_orders() if o.client_order_id.endswith("-o0")]
    assert [o.price for o in opens] == [Decimal("2999.70"), Decimal("2989.70"), Decimal("2979.70")]
    state = grid.state()
    assert [lv.stage.value for lv in state.levels] == ["closing"] * 3
    assert grid.position().qty == Decimal("0.3")


def test_grid_step_keeps_take_profits_apart(make_grid):
    grid = make_grid(grid_step_pct="0.5")
    grid.marks(3000, 2990, 2980, 2970, 2960)
    for minute in range(5):
        grid.cycle(minute)
    # 2989.70 would take profit at 3019.60, only 0.33 % from 3029.70: skipped. 2979.70
    # (-> 3009.50, 0.67 % away) is placed; 2969.70 (-> 2999.40) is too close again.
    opens = [o.price for o in grid.venue_orders() if o.client_order_id.endswith("-o0")]
    assert opens == [Decimal("2999.70"), Decimal("2979.70"), Decimal("2959.70")]
    take_profits = sorted(lv.tp_price for lv in grid.state().levels if lv.tp_price)
    assert take_profits == [Decimal("3009.50"), Decimal("3029.70")]
    for lower, upper in itertools.pairwise(take_profits):
        assert (upper - lower) / lower * 100 >= Decimal("0.5")


def test_wait_time_spaces_the_opens(make_grid):
    grid = make_grid(wait_time_seconds=150)
    grid.marks(3000, 2990, 2980, 2970, 2960)
    for minute in range(5):
        grid.cycle(minute)
    opens = [o for o in grid.venue_orders() if o.client_order_id.endswith("-o0")]
    # L1 at 00:00:30 fills at 00:01; the next open waits until 150 s have passed: 00:03:30.
    assert [o.placed_at.strftime("%M:%S") for o in opens] == ["00:30", "03:30"]

"""The grid trading on the paper venue: fills, take-profits, PnL, limits, pause and stops."""

from __future__ import annotations

from decimal import Decimal

from tests.integration.exchanges.conftest import ledger_by_kind
from tests.integration.grid.conftest import ACCOUNT, MAKER, VENUE


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

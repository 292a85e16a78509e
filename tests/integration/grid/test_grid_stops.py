"""pause_price, stop_price (keep or close) and the stop loss, on the paper venue."""

from __future__ import annotations

from decimal import Decimal

from core.enums import PositionStatus
from tests.integration.exchanges.conftest import ledger_by_kind
from tests.integration.grid.conftest import ACCOUNT, MAKER, TAKER, VENUE


def _opens(grid) -> list[str]:
    return [
        o.placed_at.strftime("%M:%S")
        for o in grid.venue_orders()
        if o.client_order_id.endswith("-o0")
    ]


def _events(grid) -> list[str]:
    sink = grid.components().events()
    return [e.kind for e in reversed(sink.recent(200, grid.config["name"]))]


def test_pause_price_stops_new_opens_until_the_price_comes_back(make_grid):
    grid = make_grid(pause_price="3020", open_timeout_seconds=60)
    grid.marks(3000, 2990, 3025, 3026, 3010)
    for minute in range(5):
        grid.cycle(minute)
    # 00:00 open; 00:01 filled, next open; 00:02 paused (that open times out, cancelled);
    # 00:03 still paused: nothing; 00:04 below the pause price again: open.
    assert _opens(grid) == ["00:30", "01:30", "04:30"]
    events = _events(grid)
    assert events.index("grid.paused") < events.index("grid.resumed")
    assert "grid.open_cancelled" in events
    assert grid.state().status.value == "running"


def test_stop_price_with_keep_cancels_the_open_and_keeps_the_take_profit(make_grid):
    grid = make_grid(take_profit_pct="2", stop_price="3040", on_stop="keep")
    grid.marks(3000, 2990, 3045, 3060, 2990, 2980)
    for minute in range(6):
        grid.cycle(minute)
    state = grid.state()
    assert (state.status.value, state.stop_reason) == ("stopped", "stop_price")
    assert _opens(grid) == ["00:30", "01:30"]  # none after the stop, even back at 2990
    cancelled = [o.client_order_id for o in grid.venue_orders() if o.status == "cancelled"]
    assert cancelled == [f"grid-{state.run_id}-2-o0"]
    # The kept take-profit (2999.70 * 1.02 = 3059.694 -> 3059.70) filled at 00:03.
    gross = (Decimal("3059.70") - Decimal("2999.70")) * Decimal("0.1")
    fees = (Decimal("2999.70") + Decimal("3059.70")) * Decimal("0.1") * MAKER
    assert (state.totals.take_profits, state.totals.realized_pnl) == (1, gross - fees)
    assert grid.position() is None


def test_stop_price_with_close_closes_the_position_at_market(make_grid):
    grid = make_grid(take_profit_pct="2", stop_price="3040", on_stop="close")
    grid.marks(3000, 2990, 3045, 3050)
    for minute in range(4):
        grid.cycle(minute)
    state = grid.state()
    assert (state.status.value, state.closing, state.levels) == ("stopped", False, ())
    assert grid.position() is None
    close = next(o for o in grid.venue_orders() if "-0-x" in o.client_order_id)
    # 3045 * (1 - 1.0015225 bp) = 3044.695 -> 3044.69 (sells round down), taker fee.
    assert (close.order_type, close.reduce_only, close.avg_fill_price) == (
        "market",
        True,
        Decimal("3044.69"),
    )
    gross = (Decimal("3044.69") - Decimal("2999.70")) * Decimal("0.1")
    fees = Decimal("0.1") * (Decimal("2999.70") * MAKER + Decimal("3044.69") * TAKER)
    assert state.totals.realized_pnl == gross - fees
    assert all(o.status != "open" for o in grid.venue_orders())


def test_stop_loss_closes_everything_at_the_configured_level(make_grid):
    grid = make_grid(stop_loss_price="2950")
    grid.marks(3000, 2990, 2970, 2950, 2940, 2990)
    for minute in range(6):
        grid.cycle(minute)
        if minute == 2:
            record = grid.components().positions().find_active("grid-eth", "ETH")[0]
            assert (record.long_dex, record.short_dex, record.long_qty) == (
                VENUE,
                None,
                Decimal("0.2"),
            )
    # Levels filled at 2999.70, 2989.70, 2969.70 (the last at the 00:03 tick). At 00:03 the
    # mid reaches 2950: take-profits cancelled, 0.3 sold at market: 2950 * (1 - 1.004425
    # bp) = 2949.7037 -> 2949.70.
    gross = (Decimal("-50") + Decimal("-40") + Decimal("-20")) * Decimal("0.1")
    fees = Decimal("8959.10") * Decimal("0.1") * MAKER + Decimal("2949.70") * Decimal("0.3") * TAKER
    assert (gross, fees) == (Decimal("-11.000"), Decimal("0.532596"))
    state = grid.state()
    assert (state.status.value, state.stop_reason, state.closing) == ("stopped", "stop_loss", False)
    assert state.totals.realized_pnl == gross - fees
    ledger = ledger_by_kind(grid.engine, VENUE, ACCOUNT)
    assert (ledger["realized_pnl"], ledger["trading_fee"]) == (gross, -fees)
    assert grid.position() is None
    assert _opens(grid) == ["00:30", "01:30", "02:30"]  # nothing after the stop, even at 2990
    assert all(o.status in ("filled", "cancelled") for o in grid.venue_orders())
    positions = grid.components().positions()
    assert positions.find_active("grid-eth") == []
    (closed,) = positions.find("grid-eth")
    assert (closed.status, closed.realized_pnl_usd) == (PositionStatus.CLOSED, gross - fees)

"""A grid that may take no new exposure (paused), on the paper venue: the guarded clients the
runtime gives it refuse its opens before they reach the venue, and its wind-down works."""

from decimal import Decimal

import pytest

from core.enums import OrderSide, OrderType
from exchanges.base import FundingHistory, OrderRejectedError, OrderRequest
from exchanges.reduce_only import reduce_only
from strategies.components.kits import PostgresKit
from strategies.factory import build_strategy, load_strategy_config
from strategies.implementations.grid.strategy import GridStrategy

from .conftest import SYMBOL, VENUE

WHY = "strategy grid-eth is paused: maintenance"


def _guarded(grid) -> GridStrategy:
    clients = {VENUE: reduce_only(grid.venue, WHY)}
    kit = PostgresKit(grid.engine, grid.clock, clients, no_new_exposure=WHY)
    strategy = build_strategy(load_strategy_config(grid.config), kit)
    assert isinstance(strategy, GridStrategy)
    return strategy


def test_a_guarded_client_sends_reduce_only_orders_and_refuses_the_rest(make_grid):
    grid = make_grid()
    grid.marks(3000)
    client = reduce_only(grid.venue, WHY)
    assert isinstance(client, FundingHistory)  # what the wrapped client can do, it still can
    opening = OrderRequest("guard-open", SYMBOL, OrderSide.BUY, OrderType.MARKET, Decimal("0.1"))
    with pytest.raises(OrderRejectedError, match=rf"guard-open refused before sending.*\({WHY}\)"):
        client.place_order(opening)
    assert grid.venue_orders() == []  # nothing reached the venue
    grid.venue.place_order(opening)
    closing = OrderRequest(
        "guard-close", SYMBOL, OrderSide.SELL, OrderType.MARKET, Decimal("0.1"), reduce_only=True
    )
    assert client.place_order(closing).filled_qty == Decimal("0.1")
    assert grid.position() is None


def test_the_pause_wind_down_cancels_resting_opens_and_keeps_take_profits(make_grid):
    grid = make_grid()
    grid.marks(3000, 2990, 2990)
    grid.cycle(0)
    grid.cycle(1)
    _guarded(grid).stop()
    run_id = grid.state().run_id
    assert [(o.client_order_id, o.status) for o in grid.venue_orders()] == [
        (f"grid-{run_id}-1-o0", "filled"),
        (f"grid-{run_id}-1-t0", "open"),
        (f"grid-{run_id}-2-o0", "cancelled"),
    ]

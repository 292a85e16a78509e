"""A paper venue whose database cannot be reached fails with a transient, typed error."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, pool

from core.clock import ManualClock
from core.enums import OrderSide, OrderType
from exchanges.base import OrderRequest, TransientExchangeError
from exchanges.paper import PaperExchange


@pytest.fixture
def unreachable():
    engine = create_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none",
        poolclass=pool.NullPool,
        connect_args={"connect_timeout": 1},
    )
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    yield PaperExchange("paradex", engine=engine, clock=clock)
    engine.dispose()


def test_an_order_that_never_reached_the_venue_is_transient(unreachable):
    request = OrderRequest("c-1", "BTC", OrderSide.BUY, OrderType.MARKET, Decimal("0.01"))
    with pytest.raises(TransientExchangeError, match="paradex: place_order: database error"):
        unreachable.place_order(request)


def test_reads_are_transient_too(unreachable):
    with pytest.raises(TransientExchangeError, match="positions"):
        unreachable.positions()


def test_market_data_reads_are_transient_too(unreachable):
    with pytest.raises(TransientExchangeError, match="funding_rates"):
        unreachable.funding_rates()

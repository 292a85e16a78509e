"""Liquidation on the paper venue happens at the modelled price, and costs exactly the margin."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import OrderSide, OrderType
from db.models.paper import PaperFill
from exchanges.base import OrderRequest
from exchanges.simulation.margin import money

from .conftest import flat_ticks, ledger_by_kind, ledger_sum

D = Decimal
NO_SLIP = {"slippage_bps": D(0), "impact_bps_per_million": D(0), "taker_fee": D(0)}
MMR_ETH = D(1) / 50  # ETH max leverage 25: maintenance margin is half of 1/25


@pytest.mark.parametrize(
    ("side", "marks", "liq_price", "liquidated_at_hour"),
    [
        # Long 1 ETH at 3,000, 10x: margin 300; P = (3000 - 300 / 1) / (1 - 0.02) = 2755.10...
        (OrderSide.BUY, [3_000, 2_900, 2_760, 2_750, 2_600], D(2_700) / D("0.98"), 3),
        # Short 1 ETH at 3,000, 10x: P = (3000 + 300 / 1) / (1 + 0.02) = 3235.29...
        (OrderSide.SELL, [3_000, 3_100, 3_230, 3_240, 3_400], D(3_300) / D("1.02"), 3),
    ],
)
def test_liquidation_closes_at_the_modelled_price(
    paper, store_market, clean_db, clock, side, marks, liq_price, liquidated_at_hour
):
    store_market(flat_ticks("hyperliquid", "ETH", marks))
    venue = paper(deposit=1_000, leverage=D(10), **NO_SLIP)
    venue.place_order(OrderRequest("open", "ETH", side, OrderType.MARKET, D(1)))
    [position] = venue.positions()
    assert position.margin == D(300) and position.leverage == D(10)
    assert position.liquidation_price == money(liq_price)
    clock.advance(timedelta(hours=liquidated_at_hour - 1))
    assert len(venue.positions()) == 1  # close to, but not at, the liquidation price
    clock.advance(timedelta(hours=2))
    assert venue.positions() == []
    with Session(clean_db) as session:
        fill = session.scalars(select(PaperFill).where(PaperFill.liquidity == "liquidation")).one()
    assert fill.price == money(liq_price)
    assert fill.filled_at == clock.now() - timedelta(hours=1)
    kinds = ledger_by_kind(clean_db, "hyperliquid")
    direction = 1 if side is OrderSide.BUY else -1
    assert kinds["realized_pnl"] == money(direction * (liq_price - 3_000))
    # What is left of the margin at the liquidation price is the maintenance margin: the fee.
    assert kinds["liquidation_fee"] == -money(MMR_ETH * liq_price)
    # The account loses exactly the position's margin, nothing more.
    assert kinds["realized_pnl"] + kinds["liquidation_fee"] == D(-300)
    assert venue.balance().total == venue.balance().available == D(700)
    collateral, ledger = ledger_sum(clean_db, "hyperliquid")
    assert collateral == ledger == D(700)


def test_low_leverage_long_has_no_liquidation_price(paper, store_market):
    store_market(flat_ticks("hyperliquid", "ETH", [3_000]))
    venue = paper(deposit=5_000, leverage=D(1), **NO_SLIP)
    venue.place_order(OrderRequest("spotlike", "ETH", OrderSide.BUY, OrderType.MARKET, D(1)))
    assert venue.positions()[0].liquidation_price is None

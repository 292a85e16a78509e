"""The paper venue's perp arithmetic, by hand and by property."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.enums import OrderSide
from exchanges.simulation.margin import (
    FLAT,
    PositionState,
    apply_fill,
    execution_price,
    fee_for,
    is_liquidated,
    liquidation_price,
    money,
    unrealized_pnl,
)

D = Decimal
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def test_opening_and_extending_average_the_entry_and_add_margin():
    opened = apply_fill(FLAT, BUY, D(1), D(100), D(5))
    assert opened.after == PositionState(D(1), D(100), D(20)) and opened.margin_added == D(20)
    extended = apply_fill(opened.after, BUY, D(3), D(120), D(5))
    assert extended.after == PositionState(D(4), D(115), D(92))
    assert extended.realized_pnl == 0


def test_reducing_realizes_pnl_and_releases_the_closed_share_of_margin():
    long = PositionState(D(4), D(115), D(92))
    reduced = apply_fill(long, SELL, D(1), D(125), D(5))
    assert reduced.realized_pnl == D(10)
    assert reduced.margin_released == D(23)
    assert reduced.after == PositionState(D(3), D(115), D(69))
    closed = apply_fill(reduced.after, SELL, D(3), D(110), D(5))
    assert (
        closed.after == FLAT and closed.realized_pnl == D(-15) and closed.margin_released == D(69)
    )


def test_crossing_zero_closes_then_opens_the_remainder_at_the_fill_price():
    short = PositionState(D(-2), D(50), D(20))
    flipped = apply_fill(short, BUY, D(5), D(40), D(4))
    assert flipped.realized_pnl == D(20)  # short 2 from 50 to 40
    assert flipped.margin_released == D(20) and flipped.margin_added == D(30)
    assert flipped.after == PositionState(D(3), D(40), D(30))
    assert flipped.opens


def test_invalid_fill_is_refused():
    with pytest.raises(ValueError, match="positive"):
        apply_fill(FLAT, BUY, D(0), D(1), D(1))


def test_liquidation_price_by_hand():
    # Long 2 at 100 with 40 margin (5x), mmr 2 %: (100 - 20) / 0.98.
    assert liquidation_price(PositionState(D(2), D(100), D(40)), D("0.02")) == money(
        D(80) / D("0.98")
    )
    # Short 2 at 100 with 40 margin: (100 + 20) / 1.02.
    assert liquidation_price(PositionState(D(-2), D(100), D(40)), D("0.02")) == money(
        D(120) / D("1.02")
    )
    assert liquidation_price(FLAT, D("0.02")) is None
    assert liquidation_price(PositionState(D(1), D(100), D(100)), D("0.02")) is None


positions = st.builds(
    lambda qty, entry, leverage: PositionState(qty, entry, money(abs(qty) * entry / leverage)),
    st.decimals(min_value=D("0.001"), max_value=D(1000), places=3).flatmap(
        lambda q: st.sampled_from([q, -q])
    ),
    st.decimals(min_value=D("0.01"), max_value=D(100_000), places=2),
    st.decimals(min_value=D("1.5"), max_value=D(50), places=1),
)


@given(positions, st.sampled_from([D("0.005"), D("0.01"), D("0.025")]))
def test_equity_at_the_liquidation_price_equals_the_maintenance_margin(position, mmr):
    price = liquidation_price(position, mmr)
    assert price is not None
    equity = position.margin + position.qty * (price - position.entry_price)
    maintenance = mmr * abs(position.qty) * price
    assert abs(equity - maintenance) <= D("1e-12") * max(D(1), maintenance)
    assert is_liquidated(position, price, mmr)
    nudge = price * D("0.001")
    safer = price + nudge if position.qty > 0 else price - nudge
    assert not is_liquidated(position, safer, mmr)


@given(positions, st.decimals(min_value=D("1.5"), max_value=D(50), places=1))
def test_a_round_trip_at_one_price_realizes_nothing_and_frees_all_margin(position, leverage):
    side = SELL if position.qty > 0 else BUY
    closed = apply_fill(position, side, abs(position.qty), position.entry_price, leverage)
    assert closed.after == FLAT
    assert closed.realized_pnl == 0 and closed.margin_released == position.margin
    assert unrealized_pnl(position, position.entry_price) == 0


@given(
    st.decimals(min_value=D("0.01"), max_value=D(100_000), places=2),
    st.decimals(min_value=D("0.001"), max_value=D(100), places=3),
    st.sampled_from([BUY, SELL]),
)
def test_execution_price_is_never_better_than_the_mark_and_sits_on_the_tick(mark, qty, side):
    tick = D("0.01")
    price = execution_price(mark, side, qty, tick, D(1), D(5))
    assert price % tick == 0
    assert price >= mark if side is BUY else price <= mark


def test_bigger_orders_slip_more():
    small = execution_price(D(100), BUY, D(10), D("0.001"), D(1), D(10))
    large = execution_price(D(100), BUY, D(100_000), D("0.001"), D(1), D(10))
    assert D(100) < small < large  # 1,000 vs 10,000,000 USD notional: 1.01 vs 101 bp


def test_maker_rebate_is_a_negative_fee():
    assert fee_for(D(2), D(100), D("-0.0001")) == D("-0.02")

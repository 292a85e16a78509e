"""Advancing a simulated venue through time: the venue's "matching engine".

Every call on a simulated venue first advances it to the clock's now, so state is always
current. Between the last processed time and now, market events are replayed in time order:

1. each funding event: every open position in the symbol receives `-qty * mark * rate`
   (rate per interval; positive rate: longs pay shorts), booked as a `funding` ledger row
   referenced `"<symbol>@<funding time>"`; the settlement is recorded once;
2. each market tick (new mark price): resting limit orders that the price crossed fill at
   their limit price (maker); then positions whose liquidation price was reached are closed
   at that price.

At equal times funding comes before ticks, and an order placed by a call at time T comes
after both: funding at T is paid on the position held just before T, so a position opened at
exactly 08:00 (by any path) does not pay the 08:00 funding. Only symbols with a resting
order or an open position need their ticks (`VenueBook.active_symbols`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from core.enums import LedgerKind, Liquidity, OrderSide, OrderStatus
from exchanges.base import FundingPayment
from exchanges.simulation.margin import ONE, ZERO, is_liquidated, liquidation_price, money
from exchanges.simulation.market import FundingEvent, MarketWindow, Tick
from exchanges.simulation.orders import cancel_order, execute_fill
from exchanges.simulation.state import (
    FundingPaid,
    Holding,
    OrderState,
    Settlement,
    VenueAdvance,
    VenueBook,
)
from exchanges.venues import SymbolSpec


def advance(
    book: VenueBook,
    window: MarketWindow,
    active: Sequence[str],
    spec_for: Callable[[str], SymbolSpec],
    report: VenueAdvance,
) -> None:
    """Replay `window` on `book`: its ticks of the `active` symbols (`book.active_symbols()`:
    a resting order or an open position when the window began) and its funding events.

    Nothing can open a position in another symbol during the window (no order arrives
    there), so the funding of every other symbol is settled with nobody to pay at once."""
    report.active_symbols = list(active)
    in_play = set(active)
    funding = []
    for event in window.funding:
        if event.symbol in in_play:
            funding.append(event)
        else:
            book.journal.unpaid.append(event)
    report.funding_settlements += len(window.funding) - len(funding)
    ticks = window.ticks
    i, n = 0, len(ticks)
    # Both lists are in (time, symbol) order; at equal times funding comes first.
    for event in funding:
        while i < n and ticks[i].ts < event.funding_time:
            _on_tick(book, ticks[i], spec_for, report)
            i += 1
        _settle_funding(book, event, report)
    for tick in ticks[i:]:
        _on_tick(book, tick, spec_for, report)


def _on_tick(
    book: VenueBook, tick: Tick, spec_for: Callable[[str], SymbolSpec], report: VenueAdvance
) -> None:
    mark = tick.mark_price
    for order in list(book.resting(tick.symbol)):
        if order.placed_at >= tick.ts or order.price is None:
            continue
        crossed = (order.side is OrderSide.BUY and mark <= order.price) or (
            order.side is OrderSide.SELL and mark >= order.price
        )
        if crossed:
            _fill_resting(book, order, tick.ts, report)
    positions = book.held_in(tick.symbol)
    if positions:
        rate = spec_for(tick.symbol).maintenance_margin_rate
        for holding in positions:
            if is_liquidated(holding.state, mark, rate):
                _liquidate(book, holding, rate, tick.ts, report)


def _fill_resting(book: VenueBook, order: OrderState, at: datetime, report: VenueAdvance) -> None:
    account = book.accounts[order.account]
    holding = book.holding(order.account, order.symbol, at)
    qty = order.quantity - order.filled_qty
    if order.reduce_only:
        reduces = (holding.qty > 0) == (order.side is OrderSide.SELL)
        reducible = abs(holding.qty) if reduces else ZERO
        qty = min(qty, reducible)
        if qty <= 0:
            cancel_order(book, order, at, "reduce-only order no longer reduces a position")
            return
    assert order.price is not None  # only limit orders rest
    execute_fill(
        book,
        account,
        holding,
        side=order.side,
        qty=qty,
        price=order.price,
        fee_rate=order.maker_fee_rate,
        leverage=order.leverage,
        liquidity=Liquidity.MAKER,
        at=at,
        reference=order.client_order_id,
        order=order,
    )
    if order.status is not OrderStatus.FILLED:
        cancel_order(book, order, at, "reduce-only remainder cancelled: position is closed")
    report.limit_fills += 1
    report.touched_accounts.add(account.key)


def _liquidate(
    book: VenueBook, holding: Holding, rate: Decimal, at: datetime, report: VenueAdvance
) -> None:
    """Close at the modelled liquidation price; the margin left is the venue's fee."""
    account = book.accounts[holding.account]
    price = liquidation_price(holding.state, rate)
    assert price is not None  # is_liquidated found one
    margin = holding.margin
    side = OrderSide.SELL if holding.qty > 0 else OrderSide.BUY
    reference = f"liquidation:{holding.symbol}:{at.isoformat()}"
    effect = execute_fill(
        book,
        account,
        holding,
        side=side,
        qty=abs(holding.qty),
        price=price,
        fee_rate=ZERO,
        leverage=ONE,
        liquidity=Liquidity.LIQUIDATION,
        at=at,
        reference=reference,
    )
    remaining = margin + effect.realized_pnl  # equals mmr * |qty| * price, up to rounding
    book.post(account, LedgerKind.LIQUIDATION_FEE, -remaining, reference, at, holding.symbol)
    report.liquidations += 1
    report.touched_accounts.add(account.key)


def _settle_funding(book: VenueBook, event: FundingEvent, report: VenueAdvance) -> None:
    report.funding_settlements += 1
    positions = book.held_in(event.symbol)
    if not positions:
        book.journal.unpaid.append(event)
        return
    reference = f"{event.symbol}@{event.funding_time.isoformat()}"
    paid = 0
    net = ZERO
    for holding in positions:
        # Positive rate: longs pay shorts. Paid on the notional at the mark.
        amount = money(-holding.qty * event.mark_price * event.rate)
        account = book.accounts[holding.account]
        book.post(account, LedgerKind.FUNDING, amount, reference, event.funding_time, event.symbol)
        holding.funding_pnl = money(holding.funding_pnl + amount)
        paid += 1
        net += amount
        report.touched_accounts.add(account.key)
        if amount == 0:
            continue  # nothing booked, so nothing to report as paid
        book.journal.payments.append(
            FundingPaid(
                account.key,
                FundingPayment(
                    venue=book.venue,
                    symbol=event.symbol,
                    funding_time=event.funding_time,
                    amount=amount,
                    rate=event.rate,
                    position_qty=holding.qty,
                    mark_price=event.mark_price,
                ),
            )
        )
    report.funding_payments += paid
    book.journal.settlements.append(
        Settlement(
            event.symbol,
            event.funding_time,
            event.rate,
            event.interval_hours,
            event.mark_price,
            paid,
            net,
        )
    )

"""Advancing a paper venue through simulated time: the venue's "matching engine".

Every call on a paper venue first advances the venue to the clock's now, under the venue's
row lock, so state is always current and every process sees the same history. Between the
last processed time and now, events are replayed in time order:

1. each funding time: one settlement row per (venue, symbol, funding time), inserted with
   ON CONFLICT DO NOTHING; payments are booked only by the transaction that inserted it;
2. withdrawals whose delay has elapsed complete (or fail and are refunded);
3. each market tick (new mark price): resting limit orders that the price crossed fill at
   their limit price (maker); then positions whose liquidation price was reached are closed
   at that price.

At equal times the order is funding, withdrawals, ticks, and an order placed by a call at
time T comes after all of them: funding at T is paid on the position held just before T,
so a position opened at exactly 08:00 (by any path) does not pay the 08:00 funding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.enums import MovementState, OrderSide, OrderStatus
from db.models.paper import (
    LedgerKind,
    Liquidity,
    PaperAccount,
    PaperFundingSettlement,
    PaperOrder,
    PaperPosition,
    PaperTransfer,
)
from exchanges.paper.book import (
    OPEN_ORDER_STATUSES,
    execute_fill,
    lock_accounts,
    lock_venue,
    position_for,
    post,
    state_of,
)
from exchanges.paper.margin import ONE, is_liquidated, liquidation_price, money
from exchanges.paper.market import (
    FundingEvent,
    Tick,
    funding_events,
    latest_ticks,
    ticks_between,
    venue_symbols,
)
from exchanges.paper.transfers import finish_withdrawal
from exchanges.venues import symbol_spec

_FUNDING, _WITHDRAWAL, _TICK = 0, 1, 2


@dataclass
class VenueAdvance:
    """What advancing a venue from `start` to `until` did."""

    venue: str
    start: datetime
    until: datetime
    funding_settlements: int = 0
    funding_payments: int = 0
    limit_fills: int = 0
    liquidations: int = 0
    withdrawals_finished: int = 0
    touched_accounts: set[int] = field(default_factory=set)


def advance_venue(session: Session, venue: str, now: datetime) -> VenueAdvance:
    """Bring the venue up to `now` (or to where another process already brought it).

    The venue's time never goes back: with clocks slightly apart in several processes, the
    venue's now is the latest time any of them reached.
    """
    state = lock_venue(session, venue, now)
    start = state.processed_through
    if now <= start:
        return VenueAdvance(venue, start, start)
    report = VenueAdvance(venue, start, now)
    _Replay(session, venue, start, now, report).run()
    state.processed_through = now
    return report


class _Replay:
    def __init__(
        self, session: Session, venue: str, start: datetime, until: datetime, report: VenueAdvance
    ) -> None:
        self.session = session
        self.venue = venue
        self.start = start
        self.until = until
        self.report = report
        self.orders = list(
            session.scalars(
                select(PaperOrder)
                .where(PaperOrder.venue == venue, PaperOrder.status.in_(OPEN_ORDER_STATUSES))
                .order_by(PaperOrder.placed_at, PaperOrder.id)
            )
        )
        self.positions = list(
            session.scalars(
                select(PaperPosition).where(PaperPosition.venue == venue, PaperPosition.qty != 0)
            )
        )
        self.withdrawals = list(
            session.scalars(
                select(PaperTransfer).where(
                    PaperTransfer.venue == venue,
                    PaperTransfer.state == MovementState.PENDING.value,
                    PaperTransfer.complete_at <= until,
                )
            )
        )
        ids = {o.account_id for o in self.orders} | {p.account_id for p in self.positions}
        ids |= {w.account_id for w in self.withdrawals}
        self.accounts: dict[int, PaperAccount] = lock_accounts(session, ids)

    def run(self) -> None:
        symbols = venue_symbols(self.session, self.venue)
        active = {o.symbol for o in self.orders} | {p.symbol for p in self.positions}
        prior = latest_ticks(self.session, self.venue, symbols, self.start)
        window = ticks_between(self.session, self.venue, symbols, self.start, self.until)
        by_symbol: dict[str, list[Tick]] = {}
        for tick in window:
            by_symbol.setdefault(tick.symbol, []).append(tick)
        events: list[tuple[datetime, int, str, object]] = [
            (tick.ts, _TICK, tick.symbol, tick) for tick in window if tick.symbol in active
        ]
        events += [(w.complete_at, _WITHDRAWAL, w.reference, w) for w in self.withdrawals]
        for symbol in symbols:
            for event in funding_events(
                symbol, prior.get(symbol), by_symbol.get(symbol, []), self.start, self.until
            ):
                events.append((event.funding_time, _FUNDING, symbol, event))
        events.sort(key=lambda item: (item[0], item[1], item[2]))
        for _, kind, _, payload in events:
            if kind == _TICK:
                self._on_tick(payload)  # type: ignore[arg-type]
            elif kind == _WITHDRAWAL:
                self._finish_withdrawal(payload)  # type: ignore[arg-type]
            else:
                self._settle_funding(payload)  # type: ignore[arg-type]

    # ---------------------------------------------------------------- ticks

    def _on_tick(self, tick: Tick) -> None:
        for order in self.orders:
            if order.symbol != tick.symbol or order.status not in OPEN_ORDER_STATUSES:
                continue
            if order.placed_at >= tick.ts or order.price is None:
                continue
            crossed = (order.side == OrderSide.BUY.value and tick.mark_price <= order.price) or (
                order.side == OrderSide.SELL.value and tick.mark_price >= order.price
            )
            if crossed:
                self._fill_resting(order, tick.ts)
        for position in self._positions_in(tick.symbol):
            rate = symbol_spec(position.symbol).maintenance_margin_rate
            if is_liquidated(state_of(position), tick.mark_price, rate):
                self._liquidate(position, rate, tick.ts)

    def _positions_in(self, symbol: str) -> list[PaperPosition]:
        return [p for p in self.positions if p.symbol == symbol and p.qty != 0]

    def _fill_resting(self, order: PaperOrder, at: datetime) -> None:
        account = self.accounts[order.account_id]
        position = position_for(self.session, account, order.symbol, at)
        side = OrderSide(order.side)
        qty = order.quantity - order.filled_qty
        if order.reduce_only:
            reducible = abs(position.qty) if (position.qty > 0) == (side is OrderSide.SELL) else 0
            qty = min(qty, Decimal(reducible))
            if qty <= 0:
                self._cancel(order, at, "reduce-only order no longer reduces a position")
                return
        assert order.price is not None
        execute_fill(
            self.session,
            account,
            position,
            side=side,
            qty=qty,
            price=order.price,
            fee_rate=order.maker_fee_rate,
            leverage=order.leverage,
            liquidity=Liquidity.MAKER,
            at=at,
            reference=order.client_order_id,
            order=order,
        )
        if order.status != OrderStatus.FILLED.value:
            self._cancel(order, at, "reduce-only remainder cancelled: position is closed")
        if position not in self.positions:
            self.positions.append(position)
        self.report.limit_fills += 1
        self.report.touched_accounts.add(account.id)

    def _cancel(self, order: PaperOrder, at: datetime, reason: str) -> None:
        order.status = OrderStatus.CANCELLED.value
        order.reserved_margin = Decimal(0)
        order.detail = reason
        order.updated_at = at

    def _liquidate(self, position: PaperPosition, rate: Decimal, at: datetime) -> None:
        """Close at the modelled liquidation price; the margin left is the venue's fee."""
        account = self.accounts[position.account_id]
        price = liquidation_price(state_of(position), rate)
        assert price is not None
        margin = position.margin
        side = OrderSide.SELL if position.qty > 0 else OrderSide.BUY
        reference = f"liquidation:{position.symbol}:{at.isoformat()}"
        effect, _ = execute_fill(
            self.session,
            account,
            position,
            side=side,
            qty=abs(position.qty),
            price=price,
            fee_rate=Decimal(0),
            leverage=ONE,
            liquidity=Liquidity.LIQUIDATION,
            at=at,
            reference=reference,
        )
        remaining = margin + effect.realized_pnl  # equals mmr * |qty| * price, up to rounding
        post(
            self.session,
            account,
            LedgerKind.LIQUIDATION_FEE,
            -remaining,
            reference,
            at,
            position.symbol,
        )
        self.report.liquidations += 1
        self.report.touched_accounts.add(account.id)

    # ---------------------------------------------------------------- withdrawals

    def _finish_withdrawal(self, transfer: PaperTransfer) -> None:
        account = self.accounts[transfer.account_id]
        finish_withdrawal(self.session, account, transfer)
        self.report.withdrawals_finished += 1
        self.report.touched_accounts.add(account.id)

    # ---------------------------------------------------------------- funding

    def _settle_funding(self, event: FundingEvent) -> None:
        inserted = self.session.execute(
            insert(PaperFundingSettlement)
            .values(
                venue=self.venue,
                symbol=event.symbol,
                funding_time=event.funding_time,
                rate=event.rate,
                interval_hours=event.interval_hours,
                mark_price=event.mark_price,
            )
            .on_conflict_do_nothing(index_elements=["venue", "symbol", "funding_time"])
            .returning(PaperFundingSettlement.id)
        ).scalar_one_or_none()
        if inserted is None:
            return  # settled before: never pay twice
        self.report.funding_settlements += 1
        reference = f"{event.symbol}@{event.funding_time.isoformat()}"
        paid = 0
        net = Decimal(0)
        for position in self._positions_in(event.symbol):
            # Positive rate: longs pay shorts. Paid on the notional at the mark.
            amount = money(-position.qty * event.mark_price * event.rate)
            account = self.accounts[position.account_id]
            post(
                self.session,
                account,
                LedgerKind.FUNDING,
                amount,
                reference,
                event.funding_time,
                event.symbol,
            )
            position.funding_pnl = money(position.funding_pnl + amount)
            paid += 1
            net += amount
            self.report.touched_accounts.add(account.id)
        self.report.funding_payments += paid
        settlement = self.session.get(PaperFundingSettlement, inserted)
        assert settlement is not None
        settlement.accounts_paid = paid
        settlement.net_amount = net

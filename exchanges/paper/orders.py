"""Accepting an order on the paper venue: validation, margin check, immediate fill or rest.

Runs inside the caller's transaction, with the venue advanced to `now` and the account
locked. An order fills completely in one fill (no partial fills), except that a resting
reduce-only order is cut to the position it can still reduce.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from core.enums import OrderSide, OrderStatus, OrderType
from db.models.paper import Liquidity, PaperAccount, PaperOrder
from exchanges.base import OrderRejectedError, OrderRequest
from exchanges.paper.book import available_margin, execute_fill, position_for, state_of
from exchanges.paper.margin import apply_fill, execution_price, fee_for, money
from exchanges.venues import SymbolSpec


@dataclass(frozen=True, slots=True)
class Terms:
    """The account's trading terms for one order."""

    maker_fee: Decimal
    taker_fee: Decimal
    leverage: Decimal
    slippage_bps: Decimal
    impact_bps_per_million: Decimal


def validate(venue: str, request: OrderRequest, spec: SymbolSpec) -> None:
    """Refuse what a real venue would refuse before looking at the book."""

    def reject(reason: str) -> OrderRejectedError:
        return OrderRejectedError(venue, f"order {request.client_order_id}: {reason}")

    qty = request.quantity
    if qty < spec.min_qty:
        raise reject(f"quantity {qty} below the minimum {spec.min_qty} for {request.symbol}")
    if qty % spec.qty_step != 0:
        raise reject(f"quantity {qty} is not a multiple of the step {spec.qty_step}")
    if request.order_type is OrderType.LIMIT:
        if request.price is None or request.price <= 0:
            raise reject("a limit order needs a positive price")
        if request.price % spec.tick_size != 0:
            raise reject(f"price {request.price} is not on the tick {spec.tick_size}")
    elif request.post_only:
        raise reject("post-only applies to limit orders only")


def submit(
    session: Session,
    account: PaperAccount,
    request: OrderRequest,
    *,
    mark: Decimal,
    spec: SymbolSpec,
    terms: Terms,
    now: datetime,
) -> PaperOrder:
    """Create the order row and fill it now (market, marketable limit) or let it rest."""
    venue = account.venue
    leverage = min(terms.leverage, spec.max_leverage)
    position = position_for(session, account, request.symbol, now)
    held = position.qty
    reduces = (held > 0 and request.side is OrderSide.SELL) or (
        held < 0 and request.side is OrderSide.BUY
    )
    if request.reduce_only and (not reduces or request.quantity > abs(held)):
        raise OrderRejectedError(
            venue,
            f"order {request.client_order_id}: reduce-only {request.side.value} "
            f"{request.quantity} {request.symbol} does not reduce the position ({held})",
        )
    taker_price = execution_price(
        mark,
        request.side,
        request.quantity,
        spec.tick_size,
        terms.slippage_bps,
        terms.impact_bps_per_million,
    )
    order = PaperOrder(
        id=uuid.uuid4(),
        venue=venue,
        account_id=account.id,
        client_order_id=request.client_order_id,
        symbol=request.symbol,
        side=request.side.value,
        order_type=request.order_type.value,
        quantity=request.quantity,
        price=request.price if request.order_type is OrderType.LIMIT else None,
        reduce_only=request.reduce_only,
        post_only=request.post_only,
        status=OrderStatus.OPEN.value,
        filled_qty=Decimal(0),
        fee=Decimal(0),
        leverage=leverage,
        maker_fee_rate=terms.maker_fee,
        reserved_margin=Decimal(0),
        placed_at=now,
        updated_at=now,
    )
    marketable = request.order_type is OrderType.MARKET or (
        request.price is not None
        and (
            (request.side is OrderSide.BUY and request.price >= taker_price)
            or (request.side is OrderSide.SELL and request.price <= taker_price)
        )
    )
    if marketable and request.post_only:
        raise OrderRejectedError(
            venue,
            f"order {request.client_order_id}: post-only limit {request.price} would cross "
            f"the book at {taker_price}",
        )
    if marketable:
        effect = apply_fill(
            state_of(position), request.side, request.quantity, taker_price, leverage
        )
        fee = fee_for(request.quantity, taker_price, terms.taker_fee)
        _check_margin(
            session,
            account,
            request,
            needed=effect.margin_added + fee - effect.margin_released - effect.realized_pnl,
            opens=effect.opens,
        )
        session.add(order)
        session.flush()
        execute_fill(
            session,
            account,
            position,
            side=request.side,
            qty=request.quantity,
            price=taker_price,
            fee_rate=terms.taker_fee,
            leverage=leverage,
            liquidity=Liquidity.TAKER,
            at=now,
            reference=request.client_order_id,
            order=order,
        )
        return order
    assert request.price is not None
    if not request.reduce_only:
        order.reserved_margin = money(request.quantity * request.price / leverage)
        maker_fee = max(fee_for(request.quantity, request.price, terms.maker_fee), Decimal(0))
        _check_margin(session, account, request, needed=order.reserved_margin + maker_fee)
    session.add(order)
    session.flush()
    return order


def _check_margin(
    session: Session,
    account: PaperAccount,
    request: OrderRequest,
    *,
    needed: Decimal,
    opens: bool = True,
) -> None:
    """Refuse an order that opens exposure the account's free margin cannot carry.

    An order that only reduces is always allowed: a venue never traps a position.
    """
    if not opens:
        return
    available = available_margin(session, account)
    if needed > available:
        raise OrderRejectedError(
            account.venue,
            f"order {request.client_order_id}: insufficient margin on account "
            f"{account.account!r}: needs {money(needed)} USDC, available {money(available)}",
        )


def cancel(order: PaperOrder, now: datetime) -> PaperOrder:
    """Cancel a resting order; a finished order is returned unchanged."""
    if order.status in (OrderStatus.OPEN.value, OrderStatus.PARTIALLY_FILLED.value):
        order.status = OrderStatus.CANCELLED.value
        order.reserved_margin = Decimal(0)
        order.detail = "cancelled by client"
        order.updated_at = now
    return order

"""Accepting an order on a simulated venue: validation, margin check, immediate fill or rest.

Everything is decided before anything changes, so a refused order leaves the book as it was.
An order fills completely in one fill (no partial fills), except that a resting reduce-only
order is cut to the position it can still reduce (see `replay.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core.enums import LedgerKind, Liquidity, OrderSide, OrderStatus, OrderType
from core.market import TopOfBook
from exchanges.base import OrderRejectedError, OrderRequest
from exchanges.simulation.config import PaperVenueConfig
from exchanges.simulation.margin import (
    FLAT,
    ZERO,
    FillEffect,
    apply_fill,
    execution_price,
    fee_for,
    money,
)
from exchanges.simulation.state import (
    AccountState,
    Fill,
    Holding,
    OrderState,
    VenueBook,
    order_id_for,
)
from exchanges.venues import SymbolSpec, VenueProfile


@dataclass(frozen=True, slots=True)
class Terms:
    """An account's trading terms: fees, leverage and the slippage model."""

    maker_fee: Decimal
    taker_fee: Decimal
    leverage: Decimal
    slippage_bps: Decimal
    impact_bps_per_million: Decimal

    @classmethod
    def of(cls, config: PaperVenueConfig, profile: VenueProfile) -> Terms:
        return cls(
            maker_fee=config.maker_rate(profile),
            taker_fee=config.taker_rate(profile),
            leverage=config.leverage,
            slippage_bps=config.slippage_bps,
            impact_bps_per_million=config.impact_bps_per_million,
        )


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


def taker_price(
    side: OrderSide,
    qty: Decimal,
    *,
    mark: Decimal,
    book: TopOfBook | None,
    spec: SymbolSpec,
    terms: Terms,
) -> Decimal:
    """Where a market order fills now.

    On a modelled book: the mark moved by the fixed slippage (half the spread) and the size
    impact. On a real book (dry-run): the touch it takes (ask for a buy, bid for a sell) moved
    by the size impact only, since the real spread is already in the touch.
    """
    if book is None:
        return execution_price(
            mark, side, qty, spec.tick_size, terms.slippage_bps, terms.impact_bps_per_million
        )
    touch = book.ask if side is OrderSide.BUY else book.bid
    return execution_price(touch, side, qty, spec.tick_size, ZERO, terms.impact_bps_per_million)


def accept_order(
    book: VenueBook,
    account: AccountState,
    request: OrderRequest,
    *,
    mark: Decimal,
    touch: TopOfBook | None,
    spec: SymbolSpec,
    terms: Terms,
    committed: tuple[Decimal, Decimal],
    now: datetime,
) -> OrderState:
    """Place `request` for `account`: fill it now (market, marketable limit) or let it rest.

    `committed` is the account's (position margin, reserved margin) before the order.
    Raises `OrderRejectedError` (and changes nothing) when the venue would refuse it.
    """
    venue = book.venue
    leverage = min(terms.leverage, spec.max_leverage)
    existing = book.find_holding(account.key, request.symbol)
    position = existing.state if existing is not None else FLAT
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
    price = taker_price(
        request.side, request.quantity, mark=mark, book=touch, spec=spec, terms=terms
    )
    is_limit = request.order_type is OrderType.LIMIT
    limit = request.price
    if is_limit and limit is None:
        raise OrderRejectedError(
            venue, f"order {request.client_order_id}: a limit order needs a price"
        )
    marketable = (
        limit is None
        or not is_limit
        or (
            (request.side is OrderSide.BUY and limit >= price)
            or (request.side is OrderSide.SELL and limit <= price)
        )
    )
    if marketable and request.post_only:
        raise OrderRejectedError(
            venue,
            f"order {request.client_order_id}: post-only limit {request.price} would cross "
            f"the book at {price}",
        )
    order = OrderState(
        id=order_id_for(venue, request.client_order_id),
        account=account.key,
        client_order_id=request.client_order_id,
        symbol=request.symbol,
        side=request.side,
        order_type=request.order_type,
        quantity=request.quantity,
        price=request.price if is_limit else None,
        reduce_only=request.reduce_only,
        post_only=request.post_only,
        status=OrderStatus.OPEN,
        leverage=leverage,
        maker_fee_rate=terms.maker_fee,
        placed_at=now,
        updated_at=now,
    )
    if marketable:
        effect = apply_fill(position, request.side, request.quantity, price, leverage)
        fee = fee_for(request.quantity, price, terms.taker_fee)
        if effect.opens:
            _check_margin(
                venue,
                account,
                request,
                committed,
                needed=effect.margin_added + fee - effect.margin_released - effect.realized_pnl,
            )
        execute_fill(
            book,
            account,
            book.holding(account.key, request.symbol, now),
            side=request.side,
            qty=request.quantity,
            price=price,
            fee_rate=terms.taker_fee,
            leverage=leverage,
            liquidity=Liquidity.TAKER,
            at=now,
            reference=request.client_order_id,
            order=order,
        )
        book.place(order)
        return order
    assert request.price is not None  # a resting order is a limit order
    if not request.reduce_only:
        order.reserved_margin = money(request.quantity * request.price / leverage)
        maker_fee = max(fee_for(request.quantity, request.price, terms.maker_fee), ZERO)
        _check_margin(venue, account, request, committed, needed=order.reserved_margin + maker_fee)
    book.place(order)
    return order


def _check_margin(
    venue: str,
    account: AccountState,
    request: OrderRequest,
    committed: tuple[Decimal, Decimal],
    *,
    needed: Decimal,
) -> None:
    """Refuse an order that opens exposure the account's free margin cannot carry (an order
    that only reduces is never checked: a venue never traps a position)."""
    held, reserved = committed
    available = account.collateral - held - reserved
    if needed > available:
        raise OrderRejectedError(
            venue,
            f"order {request.client_order_id}: insufficient margin on account "
            f"{account.name!r}: needs {money(needed)} USDC, available {money(available)}",
        )


def cancel_order(book: VenueBook, order: OrderState, now: datetime, reason: str) -> OrderState:
    """Cancel a resting order (its reserved margin is released); a finished one is unchanged."""
    if order.is_open:
        order.status = OrderStatus.CANCELLED
        order.reserved_margin = ZERO
        order.detail = reason
        order.updated_at = now
        book.unlist(order)
    return order


def execute_fill(
    book: VenueBook,
    account: AccountState,
    holding: Holding,
    *,
    side: OrderSide,
    qty: Decimal,
    price: Decimal,
    fee_rate: Decimal,
    leverage: Decimal,
    liquidity: Liquidity,
    at: datetime,
    reference: str,
    order: OrderState | None = None,
) -> FillEffect:
    """Apply a fill to the holding, the ledger and the order."""
    effect = apply_fill(holding.state, side, qty, price, leverage)
    fee = fee_for(qty, price, fee_rate)
    holding.qty = effect.after.qty
    holding.entry_price = effect.after.entry_price
    holding.margin = effect.after.margin
    holding.realized_pnl = money(holding.realized_pnl + effect.realized_pnl)
    holding.updated_at = at
    book.post(account, LedgerKind.REALIZED_PNL, effect.realized_pnl, reference, at, holding.symbol)
    book.post(account, LedgerKind.TRADING_FEE, -fee, reference, at, holding.symbol)
    book.journal.fills.append(
        Fill(
            account.key,
            order.id if order is not None else None,
            holding.symbol,
            side,
            qty,
            price,
            fee,
            liquidity,
            at,
        )
    )
    if order is not None:
        previous = order.filled_qty
        total = previous + qty
        paid = (order.avg_fill_price or ZERO) * previous
        order.avg_fill_price = money((paid + qty * price) / total)
        order.filled_qty = total
        order.fee = money(order.fee + fee)
        order.reserved_margin = ZERO
        order.status = (
            OrderStatus.FILLED if total == order.quantity else OrderStatus.PARTIALLY_FILLED
        )
        order.updated_at = at
        if not order.is_open:
            book.unlist(order)
    return effect

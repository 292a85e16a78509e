"""From ccxt's unified structures to the port's types, and from ccxt errors to the port's.

ccxt hands numbers over as floats; they become Decimal through their shortest repr
(`core.money.to_decimal`), so 0.1 stays 0.1. Every number and time is range-checked by
`exchanges.boundary.Boundary`; what a venue leaves out is taken from the venue's quirks
(`exchanges.venue_quirks`) or refused, never filled with 0, None or "now".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import ccxt

from core.clock import Clock
from core.enums import MovementState, OrderSide, OrderStatus, OrderType
from core.market import FundingKind, FundingRate, Instrument, TopOfBook
from exchanges.base import (
    Balance,
    CapabilityNotSupportedError,
    ExchangeError,
    MalformedResponseError,
    MovementReceipt,
    OrderRejectedError,
    OrderRequest,
    Position,
    TransientExchangeError,
    UnknownOutcomeError,
    VenueOrder,
)
from exchanges.boundary import Boundary
from exchanges.venue_quirks import BalanceFigures, Observed, VenueQuirks

_ORDER_STATUS = {
    "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "expired": OrderStatus.CANCELLED,
    "rejected": OrderStatus.REJECTED,
}
_TRANSFER_STATE = {
    "ok": MovementState.COMPLETED,
    "pending": MovementState.PENDING,
    "failed": MovementState.FAILED,
    "canceled": MovementState.FAILED,
}
# Refused at the gateway (rate limit, maintenance, bad nonce): the request did not execute.
_REFUSED_BEFORE_EXECUTION = (
    ccxt.DDoSProtection,
    ccxt.RateLimitExceeded,
    ccxt.ExchangeNotAvailable,
    ccxt.InvalidNonce,
)


def translate_error(venue: str, operation: str, exc: Exception, *, side_effect: bool) -> Exception:
    """The port's error for a ccxt exception raised by `operation`.

    For a call with a side effect (placing an order, withdrawing) a timeout or an unclassified
    network failure may have happened after the venue executed it: that is an unknown
    outcome, to be looked up before anything is resent. Only refusals at the gateway are
    transient there. For reads, every network failure is transient.
    """
    message = f"{operation}: {type(exc).__name__}: {str(exc)[:300]}"
    if isinstance(exc, ccxt.NotSupported):
        return CapabilityNotSupportedError(venue, message)
    if isinstance(exc, ccxt.BadResponse):
        return MalformedResponseError(venue, message)
    if isinstance(exc, ccxt.NetworkError):
        if side_effect and not isinstance(exc, _REFUSED_BEFORE_EXECUTION):
            return UnknownOutcomeError(venue, message)
        return TransientExchangeError(venue, message)
    if isinstance(exc, ccxt.CancelPending):
        return TransientExchangeError(venue, message)
    if isinstance(exc, ccxt.ExchangeError) and side_effect:
        return OrderRejectedError(venue, message)
    return ExchangeError(venue, message)


class CcxtParser:
    """Parses ccxt structures for one venue, checking every value at the boundary."""

    def __init__(self, quirks: VenueQuirks, clock: Clock) -> None:
        self.venue = quirks.venue
        self.quirks = quirks
        self.clock = clock
        self.check = Boundary(quirks.venue, clock)

    # ---------------------------------------------------------------- market data

    def instrument(
        self, base: str, market: Mapping[str, Any], fees: Mapping[str, Any] | None = None
    ) -> Instrument:
        """An instrument; `fees` is the venue's fee answer where the market's are not its own."""
        method = f"fetch_markets {market.get('symbol')}"
        precision = market.get("precision") or {}
        limits = market.get("limits") or {}
        step = self.check.step(precision.get("amount"), method, "precision.amount")
        tick = self.check.step(precision.get("price"), method, "precision.price")
        size = self.check.optional(market.get("contractSize"), method, "contractSize")
        if size is not None and size != 1:
            raise self.check.error(
                method, "contractSize", f"is {size}; perpbot trades base quantities (1)"
            )
        minimum = (limits.get("amount") or {}).get("min")
        leverage = (limits.get("leverage") or {}).get("max")
        source, where = (fees, "fetch_trading_fee") if fees is not None else (market, method)
        instrument = Instrument(
            venue=self.venue,
            symbol=base,
            min_qty=step if minimum is None else self.check.step(minimum, method, "limits.min"),
            qty_step=step,
            tick_size=tick,
            maker_fee=self.check.fee_rate(source.get("maker"), where, "maker", maker=True),
            taker_fee=self.check.fee_rate(source.get("taker"), where, "taker", maker=False),
        )
        if leverage is None:  # not every venue publishes a cap through ccxt: the default
            return instrument
        max_leverage = self.check.step(leverage, method, "limits.leverage.max")
        return replace(instrument, max_leverage=max_leverage)

    def funding_rate(
        self, base: str, settle: str, raw: Mapping[str, Any], interval: Decimal, method: str
    ) -> FundingRate:
        """A current rate (per `interval` hours) as the venue quotes it, of the perpetual
        settling in `settle`."""
        funding = self.quirks.funding
        assert funding is not None, "only venues with a funding source get here"
        rate = self.check.number(raw.get("fundingRate"), method, "fundingRate")
        if funding.time is Observed.FETCHED:
            observed = self.clock.now()
        else:
            observed = self.check.time(raw.get("timestamp"), method, "timestamp")
        mark = raw.get("markPrice")
        return FundingRate(
            venue=self.venue,
            symbol=base,
            rate=self.check.funding_rate(rate, interval, method, "fundingRate"),
            interval_hours=interval,
            next_funding_time=self.check.optional_time(
                raw.get("nextFundingTimestamp"), method, "nextFundingTimestamp"
            ),
            mark_price=None if mark is None else self.check.price(mark, method, "markPrice"),
            timestamp=observed,
            margin_asset=settle,
            kind=FundingKind.PREDICTED,
        )

    def settled_funding_rate(
        self, base: str, settle: str, history: Sequence[Mapping[str, Any]], method: str
    ) -> FundingRate:
        """The latest settlement of a funding history, timestamped at its settlement. It is
        the venue's current rate for a venue whose ccxt class has no current-rate call, so it
        is stored as a quote (`PREDICTED`), as the collector stores every venue's."""
        funding = self.quirks.funding
        assert funding is not None and funding.interval_field, "a history source names it"
        if not history:
            raise self.check.error(method, "history", "is empty: no settlement to read")
        times = [
            self.check.time(e.get("timestamp"), method, "timestamp", market=False) for e in history
        ]
        settled, last = max(zip(times, history, strict=True), key=lambda pair: pair[0])
        settled = self.check.time(last.get("timestamp"), method, "timestamp")
        hours = self.check.number(
            (last.get("info") or {}).get(funding.interval_field), method, funding.interval_field
        )
        interval = self.check.interval_hours(hours, method, funding.interval_field)
        rate = self.check.number(last.get("fundingRate"), method, "fundingRate")
        return FundingRate(
            venue=self.venue,
            symbol=base,
            rate=self.check.funding_rate(rate, interval, method, "fundingRate"),
            interval_hours=interval,
            next_funding_time=settled + timedelta(hours=float(interval)),
            mark_price=None,
            timestamp=settled,
            margin_asset=settle,
            kind=FundingKind.PREDICTED,
        )

    def top_of_book(self, base: str, book: Mapping[str, Any]) -> TopOfBook:
        method = f"fetch_order_book {base}"
        bids, asks = book.get("bids") or [], book.get("asks") or []
        if not bids or not asks:
            raise self.check.error(method, "bids/asks", "has an empty side")
        bid = self.check.price(_level(bids, 0), method, "bids[0].price")
        ask = self.check.price(_level(asks, 0), method, "asks[0].price")
        if bid >= ask:
            raise self.check.error(method, "bids[0]", f"{bid} is not below the best ask {ask}")
        if self.quirks.book_time is Observed.FETCHED:
            observed = self.clock.now()
        else:
            observed = self.check.time(book.get("timestamp"), method, "timestamp")
        return TopOfBook(
            venue=self.venue,
            symbol=base,
            bid=bid,
            bid_qty=self.check.step(_level(bids, 1), method, "bids[0].amount"),
            ask=ask,
            ask_qty=self.check.step(_level(asks, 1), method, "asks[0].amount"),
            timestamp=observed,
        )

    # ---------------------------------------------------------------- orders

    def order(
        self,
        raw: Mapping[str, Any],
        client_order_id: str,
        symbol: str,
        request: OrderRequest | None = None,
    ) -> VenueOrder:
        """A ccxt order. A reply to a new order often leaves fields out; those come from our
        `request`. A looked-up order (no request) must carry them itself. Fee and average
        price of a filled order must be the venue's (see `fills`)."""
        method = f"order {client_order_id}"
        amount = self.check.optional(raw.get("amount"), method, "amount")
        amount = amount if amount is not None else (request.quantity if request else None)
        if amount is None or amount <= 0:
            raise self.check.error(method, "amount", f"is {amount}")
        filled = self._filled(raw, amount, method)
        status = _ORDER_STATUS.get(str(raw.get("status")))
        if status is None:  # open, closed or not said: decided by what has filled
            done = raw.get("status") == "closed"
            status = (
                OrderStatus.FILLED
                if filled == amount
                else (OrderStatus.CANCELLED if done else _live(filled))
            )
        side = raw.get("side") or (request.side.value if request else None)
        if side not in ("buy", "sell"):
            raise self.check.error(method, "side", f"is {side!r}")
        kind = raw.get("type") or (request.order_type.value if request else None)
        price = self.check.optional(raw.get("price"), method, "price")
        if price is not None and price <= 0:
            price = None  # market orders report price 0
        average = raw.get("average")
        fee = (raw.get("fee") or {}).get("cost")
        if filled > 0 and (average is None or fee is None):
            raise self.check.error(
                method,
                "average" if average is None else "fee",
                "is missing for an order with fills; it must come from the venue's fills",
            )
        return VenueOrder(
            venue=self.venue,
            client_order_id=client_order_id,
            venue_order_id=None if raw.get("id") is None else str(raw["id"]),
            symbol=symbol,
            side=OrderSide(side),
            order_type=OrderType.MARKET if str(kind).lower() == "market" else OrderType.LIMIT,
            quantity=amount,
            price=price if price is not None else (request.price if request else None),
            status=status,
            filled_qty=filled,
            avg_fill_price=None if filled == 0 else self.check.price(average, method, "average"),
            fee=Decimal(0) if filled == 0 else self.check.number(fee, method, "fee.cost"),
            reduce_only=bool(raw.get("reduceOnly") or (request.reduce_only if request else False)),
            updated_at=self.check.optional_time(
                raw.get("lastUpdateTimestamp") or raw.get("timestamp"),
                method,
                "timestamp",
                market=False,
            ),
        )

    def _filled(self, raw: Mapping[str, Any], amount: Decimal, method: str) -> Decimal:
        filled = self.check.optional(raw.get("filled"), method, "filled")
        if filled is None:
            remaining = self.check.optional(raw.get("remaining"), method, "remaining")
            if remaining is None:
                raise self.check.error(method, "filled", "is missing (and so is remaining)")
            filled = amount - remaining
        return self.check.filled(filled, amount, method)

    def fills(
        self,
        trades: Sequence[Mapping[str, Any]],
        venue_order_id: str,
        filled: Decimal,
        currency: str,
    ) -> tuple[Decimal, Decimal]:
        """Average price and fee (in `currency`) of an order from the venue's fills of it."""
        method = f"fetch_my_trades {venue_order_id}"
        mine = [t for t in trades if str(t.get("order")) == venue_order_id]
        amounts = [self.check.step(t.get("amount"), method, "amount") for t in mine]
        if sum(amounts, Decimal(0)) != filled:
            raise self.check.error(
                method,
                "amount",
                f"fills of the order add up to {sum(amounts, Decimal(0))}, not the {filled} "
                "it filled: its average price and fee cannot be known",
            )
        notional, fees = Decimal(0), Decimal(0)
        for trade, amount in zip(mine, amounts, strict=True):
            notional += amount * self.check.price(trade.get("price"), method, "price")
            fee = trade.get("fee") or {}
            if fee.get("currency") != currency:
                raise self.check.error(
                    method, "fee.currency", f"is {fee.get('currency')!r}, not {currency}"
                )
            fees += self.check.number(fee.get("cost"), method, "fee.cost")
        return notional / filled, fees

    # ---------------------------------------------------------------- account

    def position(
        self, base: str, raw: Mapping[str, Any], mark: object, margin_fraction: object = None
    ) -> Position:
        method = f"fetch_positions {raw.get('symbol')}"
        contracts = self.check.step(raw.get("contracts"), method, "contracts")
        size = self.check.optional(raw.get("contractSize"), method, "contractSize")
        if size is not None and size <= 0:
            raise self.check.error(method, "contractSize", f"is {size}")
        qty = contracts * (size if size is not None else 1)
        side = raw.get("side")
        if side is None and self.quirks.position_side_field:
            side = str((raw.get("info") or {}).get(self.quirks.position_side_field)).lower()
        if side not in ("long", "short"):
            raise self.check.error(method, "side", f"is {side!r}")
        signed = qty if side == "long" else -qty
        entry = self.check.price(raw.get("entryPrice"), method, "entryPrice")
        mark_price = self.check.price(mark, method, "markPrice")
        upnl = self.check.optional(raw.get("unrealizedPnl"), method, "unrealizedPnl")
        margin = self.check.optional(raw.get("initialMargin"), method, "initialMargin")
        if margin is None:
            margin = self.check.optional(raw.get("collateral"), method, "collateral")
        leverage = self.check.optional(raw.get("leverage"), method, "leverage")
        notional = qty * mark_price
        if margin is None and leverage is None and margin_fraction is not None:
            fraction = self.check.step(margin_fraction, method, "initialMarginFraction")
            margin, leverage = notional * fraction, 1 / fraction
        if margin is None and leverage:
            margin = notional / leverage
        if leverage is None and margin:
            leverage = notional / margin
        if not margin or not leverage or margin < 0 or leverage < 0:
            raise self.check.error(method, "initialMargin/leverage", "are missing or zero")
        liquidation = self.check.optional(raw.get("liquidationPrice"), method, "liquidationPrice")
        return Position(
            venue=self.venue,
            symbol=base,
            qty=signed,
            entry_price=entry,
            mark_price=mark_price,
            # A linear perpetual's unrealized PnL, where the venue leaves it out.
            unrealized_pnl=signed * (mark_price - entry) if upnl is None else upnl,
            # 0 is how venues say "cannot be liquidated" (e.g. a low-leverage long).
            liquidation_price=liquidation if liquidation else None,
            margin=margin,
            leverage=leverage,
        )

    def balance(self, raw: Mapping[str, Any], asset: str) -> Balance:
        method = f"fetch_balance {asset}"
        figures = (
            self.quirks.balance(raw)
            if self.quirks.balance
            else BalanceFigures(
                (raw.get("total") or {}).get(asset),
                (raw.get("free") or {}).get(asset),
                (raw.get("used") or {}).get(asset),
            )
        )
        total = self.check.number(figures.total, method, "total")
        free = self.check.quantity(figures.free, method, "free")
        used = self.check.optional(figures.used, method, "used")
        return Balance(self.venue, asset, total, free, total - free if used is None else used)

    def transfer(self, raw: Mapping[str, Any], reference: str) -> MovementReceipt:
        method = f"transfer {reference}"
        status = raw.get("status")
        state = _TRANSFER_STATE.get(str(status))
        if status is None and self.quirks.listed_transfers_are_final:
            state = MovementState.COMPLETED
        if state is None:
            raise self.check.error(method, "status", f"is {status!r}")
        fee = (raw.get("fee") or {}).get("cost")
        asset = raw.get("currency") or self.quirks.transfer_asset
        if not asset:
            raise self.check.error(method, "currency", "is missing")
        return MovementReceipt(
            party=self.venue,
            reference=reference,
            asset=str(asset),
            amount=self.check.step(raw.get("amount"), method, "amount"),
            # A deposit's amount is what the venue credited: no fee is taken from it.
            fee=Decimal(0) if fee is None else self.check.quantity(fee, method, "fee.cost"),
            state=state,
            chain=raw.get("network"),
            to_address=raw.get("address"),
            tx_hash=raw.get("txid"),
            external_id=str(raw["id"]) if raw.get("id") else None,
        )


def _level(side: Sequence[Any], index: int) -> object:
    level = side[0]
    return level[index] if isinstance(level, list | tuple) and len(level) > index else None


def _live(filled: Decimal) -> OrderStatus:
    return OrderStatus.OPEN if filled == 0 else OrderStatus.PARTIALLY_FILLED

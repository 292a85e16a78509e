"""From ccxt's unified structures to the port's types, and from ccxt errors to the port's.

ccxt hands numbers over as floats; they become Decimal through their shortest repr
(`core.money.to_decimal`), so 0.1 stays 0.1. A missing or unparsable field that matters
raises `MalformedResponseError` naming the venue, the object and the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import ccxt

from core.clock import Clock
from core.enums import MovementState, OrderSide, OrderStatus, OrderType
from core.market import FundingKind, FundingRate, Instrument
from core.money import to_decimal
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

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")
_UNIT_HOURS = {"m": Decimal(1) / 60, "h": Decimal(1), "d": Decimal(24)}
_MS_PER_HOUR = Decimal(3_600_000)
_ORDER_STATUS = {
    "closed": OrderStatus.FILLED,
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


def interval_hours(text: object) -> Decimal | None:
    """ccxt's funding `interval` ("1h", "8h", "30m") in hours; None when absent/unknown."""
    if not isinstance(text, str):
        return None
    match = _INTERVAL.match(text)
    if match is None:
        return None
    hours = Decimal(match.group(1)) * _UNIT_HOURS[match.group(2)]
    return hours if hours > 0 else None


def hours_between(earlier_ms: object, later_ms: object) -> Decimal | None:
    if not isinstance(earlier_ms, int | float) or not isinstance(later_ms, int | float):
        return None
    gap = (Decimal(int(later_ms)) - Decimal(int(earlier_ms))) / _MS_PER_HOUR
    return gap if gap > 0 else None


def from_ms(value: object) -> datetime | None:
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value / 1000, UTC)
    return None


class CcxtParser:
    """Parses ccxt structures for one venue; times missing from the venue come from `clock`."""

    def __init__(self, venue: str, clock: Clock) -> None:
        self.venue = venue
        self.clock = clock

    def malformed(
        self, what: str, field: str, detail: str = "is missing"
    ) -> MalformedResponseError:
        return MalformedResponseError(self.venue, f"{what}: field {field!r} {detail}")

    def number(self, data: Mapping[str, Any], field: str, what: str) -> Decimal:
        value = data.get(field)
        if value is None:
            raise self.malformed(what, field)
        try:
            return to_decimal(value, f"{what}.{field}")
        except ValueError as exc:
            raise MalformedResponseError(self.venue, str(exc)) from None

    def optional(self, data: Mapping[str, Any], field: str, what: str) -> Decimal | None:
        return None if data.get(field) is None else self.number(data, field, what)

    def instrument(self, base: str, market: Mapping[str, Any]) -> Instrument:
        what = f"market {market.get('symbol')}"
        precision = market.get("precision") or {}
        limits = market.get("limits") or {}
        qty_step = self.number(precision, "amount", f"{what}.precision")
        tick = self.number(precision, "price", f"{what}.precision")
        min_qty = self.optional(limits.get("amount") or {}, "min", f"{what}.limits.amount")
        max_leverage = self.optional(limits.get("leverage") or {}, "max", f"{what}.limits.leverage")
        instrument = Instrument(
            venue=self.venue,
            symbol=base,
            min_qty=min_qty if min_qty else qty_step,
            qty_step=qty_step,
            tick_size=tick,
            maker_fee=self.number(market, "maker", what),
            taker_fee=self.number(market, "taker", what),
        )
        # Not every venue publishes a leverage cap through ccxt: then the port's default.
        return replace(instrument, max_leverage=max_leverage) if max_leverage else instrument

    def funding_rate(
        self,
        base: str,
        settle: str,
        raw: Mapping[str, Any],
        interval_hint: Decimal | None = None,
    ) -> FundingRate:
        """The current (predicted) funding rate of the perpetual settling in `settle`, with
        its interval from the venue's data, never a guessed 8 h."""
        what = f"funding rate {raw.get('symbol') or base}"
        rate = self.number(raw, "fundingRate", what)
        hours = (
            interval_hours(raw.get("interval"))
            or hours_between(raw.get("fundingTimestamp"), raw.get("nextFundingTimestamp"))
            or hours_between(raw.get("previousFundingTimestamp"), raw.get("fundingTimestamp"))
            or interval_hint
        )
        if hours is None:
            raise self.malformed(
                what,
                "interval",
                "is missing and cannot be derived from funding timestamps; "
                "refusing to assume an interval",
            )
        next_time = from_ms(raw.get("nextFundingTimestamp")) or from_ms(raw.get("fundingTimestamp"))
        return FundingRate(
            venue=self.venue,
            symbol=base,
            rate=rate,
            interval_hours=hours,
            next_funding_time=next_time,
            mark_price=self.optional(raw, "markPrice", what),
            timestamp=from_ms(raw.get("timestamp")) or self.clock.now(),
            margin_asset=settle,
            kind=FundingKind.PREDICTED,
        )

    def settled_funding_rate(
        self, base: str, settle: str, ccxt_symbol: str, history: Sequence[Mapping[str, Any]]
    ) -> FundingRate:
        """The latest settled rate from a funding history, its interval measured between the
        last two settlements (for venues whose ccxt class has no current-rate call). It
        stands in for the current quote, so it is returned as one (PREDICTED): the
        collector stores every venue's quote as the same kind."""
        entries = sorted(history, key=lambda e: e.get("timestamp") or 0)
        if len(entries) < 2:
            raise MalformedResponseError(
                self.venue,
                f"funding history of {ccxt_symbol} has {len(entries)} entries; "
                "two are needed to know the interval",
            )
        last = {"symbol": ccxt_symbol, **entries[-1]}
        hours = hours_between(entries[-2].get("timestamp"), last.get("timestamp"))
        if hours is None:
            raise self.malformed(
                f"funding history of {ccxt_symbol}", "timestamp", "gives no interval"
            )
        rate = self.funding_rate(base, settle, last, hours)
        settled = from_ms(last.get("timestamp"))
        next_time = None if settled is None else settled + timedelta(hours=float(hours))
        return replace(rate, next_funding_time=next_time, mark_price=None)

    def order(
        self,
        raw: Mapping[str, Any],
        client_order_id: str,
        symbol: str,
        request: OrderRequest | None = None,
    ) -> VenueOrder:
        """A ccxt order. A venue's answer to a new order often leaves fields out; those come
        from our `request`. A looked-up order (no request) must carry them itself."""
        what = f"order {client_order_id}"
        amount = self.optional(raw, "amount", what) or (request.quantity if request else None)
        if amount is None:
            raise self.malformed(what, "amount")
        filled = self.optional(raw, "filled", what) or Decimal(0)
        status = _ORDER_STATUS.get(str(raw.get("status")))
        if status is None:  # "open" or not said: decided by what has filled
            if filled == 0:
                status = OrderStatus.OPEN
            else:
                status = OrderStatus.FILLED if filled >= amount else OrderStatus.PARTIALLY_FILLED
        side = raw.get("side") or (request.side.value if request else None)
        if side not in ("buy", "sell"):
            raise self.malformed(what, "side", f"is {side!r}")
        kind = raw.get("type") or (request.order_type.value if request else None)
        fee = raw.get("fee") or {}
        return VenueOrder(
            venue=self.venue,
            client_order_id=client_order_id,
            venue_order_id=None if raw.get("id") is None else str(raw["id"]),
            symbol=symbol,
            side=OrderSide(side),
            order_type=OrderType.MARKET if kind == "market" else OrderType.LIMIT,
            quantity=amount,
            price=self.optional(raw, "price", what) or (request.price if request else None),
            status=status,
            filled_qty=filled,
            avg_fill_price=self.optional(raw, "average", what),
            fee=self.optional(fee, "cost", f"{what}.fee") or Decimal(0),
            reduce_only=bool(raw.get("reduceOnly") or (request.reduce_only if request else False)),
            updated_at=from_ms(raw.get("lastUpdateTimestamp") or raw.get("timestamp")),
        )

    def position(self, base: str, raw: Mapping[str, Any]) -> Position:
        what = f"position {raw.get('symbol')}"
        contracts = self.number(raw, "contracts", what)
        size = contracts * (self.optional(raw, "contractSize", what) or Decimal(1))
        side = raw.get("side")
        if side not in ("long", "short"):
            raise self.malformed(what, "side", f"is {side!r}")
        margin = self.optional(raw, "initialMargin", what) or self.optional(raw, "collateral", what)
        return Position(
            venue=self.venue,
            symbol=base,
            qty=size if side == "long" else -size,
            entry_price=self.number(raw, "entryPrice", what),
            mark_price=self.number(raw, "markPrice", what),
            unrealized_pnl=self.optional(raw, "unrealizedPnl", what) or Decimal(0),
            liquidation_price=self.optional(raw, "liquidationPrice", what),
            margin=margin or Decimal(0),
            leverage=self.optional(raw, "leverage", what) or Decimal(0),
        )

    def balance(self, raw: Mapping[str, Any], asset: str) -> Balance:
        what = f"balance {asset}"
        total = self.number(raw.get("total") or {}, asset, f"{what}.total")
        free = self.number(raw.get("free") or {}, asset, f"{what}.free")
        used = self.optional(raw.get("used") or {}, asset, f"{what}.used")
        return Balance(self.venue, asset, total, free, used if used is not None else total - free)

    def transfer(self, raw: Mapping[str, Any], reference: str) -> MovementReceipt:
        what = f"transfer {reference}"
        state = _TRANSFER_STATE.get(str(raw.get("status")))
        if state is None:
            raise self.malformed(what, "status", f"is {raw.get('status')!r}")
        fee = raw.get("fee") or {}
        return MovementReceipt(
            party=self.venue,
            reference=reference,
            asset=str(raw.get("currency") or ""),
            amount=self.number(raw, "amount", what),
            fee=self.optional(fee, "cost", f"{what}.fee") or Decimal(0),
            state=state,
            chain=raw.get("network"),
            to_address=raw.get("address"),
            tx_hash=raw.get("txid"),
            external_id=str(raw["id"]) if raw.get("id") else None,
        )

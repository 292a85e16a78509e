"""`CcxtExchangeClient`: the `ExchangeClient` port over a (sync) ccxt exchange object.

The exchange object is injected, so tests feed it recorded venue responses and the registry
builds a real one with credentials from the environment. What the adapter adds to ccxt:
capability checks from `exchange.has` (a gap raises `CapabilityNotSupportedError` naming the
venue and the capability), symbols as base assets ("BTC/USDC:USDC" -> "BTC"), funding
intervals from the venue's data (never assumed), typed errors, and a bounded retry with
backoff on transient errors for reads only (a write is never resent blindly).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import ccxt

from core.clock import Clock, SystemClock
from core.enums import OrderType
from core.market import FundingRate, Instrument, TopOfBook
from exchanges.base import (
    Balance,
    Capability,
    CapabilityNotSupportedError,
    MalformedResponseError,
    MovementReceipt,
    OrderRejectedError,
    OrderRequest,
    Position,
    TransientExchangeError,
    VenueOrder,
)
from exchanges.ccxt_parsing import CcxtParser, from_ms, interval_hours, translate_error
from exchanges.ccxt_venues import (
    CAPABILITY_KEYS,
    FETCH_ORDER_BY_CLIENT_ID,
    SETTLE_PREFERENCE,
    select_perpetuals,
    venue_client_id,
)

T = TypeVar("T")


def _supported(value: object) -> bool:
    return value is True or value == "emulated"


class CcxtExchangeClient:
    """One real venue through ccxt."""

    def __init__(
        self,
        venue: str,
        exchange: ccxt.Exchange,
        *,
        clock: Clock | None = None,
        read_attempts: int = 3,
        backoff_s: float = 0.25,
    ) -> None:
        self.name = venue
        self.exchange = exchange
        self._clock = clock or SystemClock()
        self._parser = CcxtParser(venue, self._clock)
        self._read_attempts = max(1, read_attempts)
        self._backoff_s = backoff_s
        self._markets: dict[str, Mapping[str, Any]] | None = None

    def __repr__(self) -> str:  # never shows the exchange object (it holds credentials)
        return f"CcxtExchangeClient({self.name!r})"

    # ---------------------------------------------------------------- plumbing

    def _has(self, key: str) -> bool:
        return _supported(self.exchange.has.get(key))

    def capabilities(self) -> frozenset[Capability]:
        return frozenset(
            capability
            for capability, groups in CAPABILITY_KEYS.items()
            if any(all(self._has(key) for key in group) for group in groups)
        )

    def _require(self, capability: Capability) -> None:
        if capability not in self.capabilities():
            needs = " or ".join(" + ".join(group) for group in CAPABILITY_KEYS[capability])
            raise CapabilityNotSupportedError(
                self.name,
                f"{capability.value} is not supported by ccxt {self.exchange.id} "
                f"{ccxt.__version__} (needs {needs} in exchange.has)",
            )

    def _read(self, operation: str, call: Callable[[], T]) -> T:
        """Run a read; retry transient failures with exponential backoff, a few times."""
        for attempt in range(self._read_attempts):
            try:
                return call()
            except ccxt.BaseError as exc:
                error = translate_error(self.name, operation, exc, side_effect=False)
                if not isinstance(error, TransientExchangeError):
                    raise error from exc
                if attempt + 1 == self._read_attempts:
                    raise error from exc
            self._clock.sleep(self._backoff_s * 2**attempt)
        raise AssertionError("unreachable: the loop returns or raises")

    def _write(self, operation: str, call: Callable[[], T]) -> T:
        """Run a call with a side effect once; its errors say whether to look it up."""
        try:
            return call()
        except ccxt.BaseError as exc:
            raise translate_error(self.name, operation, exc, side_effect=True) from exc

    def _perpetuals(self) -> dict[str, Mapping[str, Any]]:
        """Base asset -> the venue's linear perpetual for it, preferring USDC settlement."""
        if self._markets is None:
            markets = self._read("load_markets", self.exchange.load_markets)
            self._markets = select_perpetuals(markets.values())
        return self._markets

    def _market(self, symbol: str) -> Mapping[str, Any]:
        market = self._perpetuals().get(symbol)
        if market is None:
            raise CapabilityNotSupportedError(self.name, f"no perpetual market for {symbol}")
        return market

    def _base_of(self, ccxt_symbol: str) -> str | None:
        for base, market in self._perpetuals().items():
            if market["symbol"] == ccxt_symbol:
                return base
        return None

    # ---------------------------------------------------------------- market data

    def instruments(self) -> Sequence[Instrument]:
        return [self._parser.instrument(b, m) for b, m in sorted(self._perpetuals().items())]

    def funding_rates(self, symbols: Sequence[str] | None = None) -> Sequence[FundingRate]:
        self._require(Capability.FUNDING_RATES)
        bases = list(symbols) if symbols is not None else sorted(self._perpetuals())
        wanted = {self._market(b)["symbol"]: b for b in bases}
        if self._has("fetchFundingRates"):
            raw = self._read(
                "fetch_funding_rates", lambda: self.exchange.fetch_funding_rates(list(wanted))
            )
        elif self._has("fetchFundingRate"):
            raw = {
                s: self._read("fetch_funding_rate", lambda s=s: self.exchange.fetch_funding_rate(s))
                for s in wanted
            }
        else:
            return [self._rate_from_history(symbol, base) for symbol, base in wanted.items()]
        hints = self._interval_hints(raw, wanted)
        return [
            self._parser.funding_rate(
                base, self._market(base)["settle"], raw[symbol], hints.get(symbol)
            )
            for symbol, base in wanted.items()
            if symbol in raw
        ]

    def _interval_hints(
        self, raw: Mapping[str, Mapping[str, Any]], wanted: Mapping[str, str]
    ) -> dict[str, Decimal]:
        """Intervals from the venue's separate interval endpoint, when its rates lack one."""
        lacking = [s for s in wanted if s in raw and not raw[s].get("interval")]
        if not lacking or not self._has("fetchFundingIntervals"):
            return {}
        intervals = self._read(
            "fetch_funding_intervals", lambda: self.exchange.fetch_funding_intervals(lacking)
        )
        hints = {}
        for symbol, entry in intervals.items():
            hours = interval_hours(entry.get("interval"))
            if hours is not None:
                hints[symbol] = hours
        return hints

    def _rate_from_history(self, ccxt_symbol: str, base: str) -> FundingRate:
        """The last settled rate, with the interval measured between the last settlements."""
        history = self._read(
            "fetch_funding_rate_history",
            lambda: self.exchange.fetch_funding_rate_history(ccxt_symbol, limit=3),
        )
        settle = self._market(base)["settle"]
        return self._parser.settled_funding_rate(base, settle, ccxt_symbol, history)

    def top_of_book(self, symbol: str) -> TopOfBook:
        self._require(Capability.ORDER_BOOK)
        ccxt_symbol = self._market(symbol)["symbol"]
        book = self._read("fetch_order_book", lambda: self.exchange.fetch_order_book(ccxt_symbol))
        bids, asks = book.get("bids") or [], book.get("asks") or []
        if not bids or not asks:
            raise MalformedResponseError(self.name, f"order book of {symbol} has an empty side")
        what = f"order book {symbol}"
        level = {"bid": bids[0][0], "bid_qty": bids[0][1], "ask": asks[0][0], "ask_qty": asks[0][1]}
        parsed = {k: self._parser.number(level, k, what) for k in level}
        return TopOfBook(
            venue=self.name,
            symbol=symbol,
            timestamp=from_ms(book.get("timestamp")) or self._parser.clock.now(),
            **parsed,
        )

    # ---------------------------------------------------------------- orders

    def place_order(self, request: OrderRequest) -> VenueOrder:
        """Place an order under its client id; if the venue already has it, return that one."""
        self._require(Capability.TRADING)
        existing = (
            self._lookup(request.symbol, request.client_order_id, request)
            if self._can_look_up()
            else None
        )
        if existing is not None:
            return existing
        ccxt_symbol = self._market(request.symbol)["symbol"]
        params: dict[str, Any] = {
            "clientOrderId": venue_client_id(self.name, request.client_order_id)
        }
        if request.reduce_only:
            params["reduceOnly"] = True
        if request.post_only:
            params["postOnly"] = True
        price = None if request.price is None else float(request.price)
        if request.order_type is OrderType.MARKET and self.name == "hyperliquid":
            # Hyperliquid has no true market order: ccxt sends an IOC limit around this price.
            price = float(self.top_of_book(request.symbol).mid)
        try:
            raw = self.exchange.create_order(
                ccxt_symbol,
                request.order_type.value,
                request.side.value,
                float(request.quantity),  # ccxt's boundary is float; it re-rounds to the step
                price,
                params,
            )
        except ccxt.DuplicateOrderId:
            found = self._lookup(request.symbol, request.client_order_id, request)
            if found is None:
                raise OrderRejectedError(
                    self.name, f"order {request.client_order_id}: duplicate id but not found"
                ) from None
            return found
        except ccxt.BaseError as exc:
            raise translate_error(self.name, "create_order", exc, side_effect=True) from exc
        return self._parser.order(raw, request.client_order_id, request.symbol, request)

    def _can_look_up(self) -> bool:
        return Capability.CLIENT_ORDER_ID_LOOKUP in self.capabilities()

    def _lookup(
        self, symbol: str, client_order_id: str, request: OrderRequest | None = None
    ) -> VenueOrder | None:
        """The venue's order for our client id, or None if the venue never received it."""
        vcid = venue_client_id(self.name, client_order_id)
        ccxt_symbol = self._market(symbol)["symbol"]
        if self.name in FETCH_ORDER_BY_CLIENT_ID and self._has("fetchOrder"):
            try:
                raw = self.exchange.fetch_order("", ccxt_symbol, {"clientOrderId": vcid})
            except ccxt.OrderNotFound:
                return None
            except ccxt.BaseError as exc:
                raise translate_error(self.name, "fetch_order", exc, side_effect=False) from exc
            if all(raw.get(key) is None for key in ("id", "clientOrderId", "status")):
                return None  # ccxt's empty order for "unknown order id" (Hyperliquid)
            return self._parser.order(raw, client_order_id, symbol, request)
        candidates = list(
            self._read("fetch_open_orders", lambda: self.exchange.fetch_open_orders(ccxt_symbol))
        )
        recent = (
            self.exchange.fetch_closed_orders
            if self._has("fetchClosedOrders")
            else self.exchange.fetch_orders
        )
        candidates += self._read("fetch_recent_orders", lambda: recent(ccxt_symbol))
        for raw in candidates:
            if raw.get("clientOrderId") == vcid:
                return self._parser.order(raw, client_order_id, symbol, request)
        return None

    def get_order(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        self._require(Capability.CLIENT_ORDER_ID_LOOKUP)
        return self._lookup(symbol, client_order_id)

    def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrder:
        self._require(Capability.TRADING)
        order = self.get_order(symbol, client_order_id)
        if order is None or order.venue_order_id is None:
            raise OrderRejectedError(self.name, f"cancel: no {symbol} order {client_order_id}")
        ccxt_symbol = self._market(symbol)["symbol"]
        try:
            self.exchange.cancel_order(order.venue_order_id, ccxt_symbol)
        except ccxt.OrderNotFound:
            pass  # finished (filled or cancelled) in the meantime: report what it is now
        except ccxt.BaseError as exc:
            raise translate_error(self.name, "cancel_order", exc, side_effect=False) from exc
        current = self.get_order(symbol, client_order_id)
        return current if current is not None else order

    def open_orders(self, symbol: str | None = None) -> Sequence[VenueOrder]:
        raise CapabilityNotSupportedError(
            self.name,
            "listing open orders needs perpbot's client ids, which only the orders table "
            "knows; look each order up with get_order",
        )

    # ---------------------------------------------------------------- account

    def positions(self) -> Sequence[Position]:
        self._require(Capability.POSITIONS)
        raw = self._read("fetch_positions", self.exchange.fetch_positions)
        result = []
        for entry in raw:
            base = self._base_of(str(entry.get("symbol")))
            if base is None or not entry.get("contracts"):
                continue
            result.append(self._parser.position(base, entry))
        return result

    def balance(self) -> Balance:
        self._require(Capability.BALANCE)
        raw = self._read("fetch_balance", self.exchange.fetch_balance)
        settles = [m["settle"] for m in self._perpetuals().values()]
        asset = next((a for a in SETTLE_PREFERENCE if a in settles), "USDC")
        return self._parser.balance(raw, asset)

    # ---------------------------------------------------------------- transfers

    def withdraw(
        self, asset: str, amount: Decimal, address: str, chain: str, idempotency_key: str
    ) -> MovementReceipt:
        """Withdraw once. ccxt takes no idempotency key: after an unknown outcome, reconcile
        from the venue's withdrawal history before trying again."""
        self._require(Capability.WITHDRAW)
        raw = self._write(
            "withdraw",
            lambda: self.exchange.withdraw(asset, float(amount), address, None, {"network": chain}),
        )
        return self._parser.transfer(
            {"amount": float(amount), "currency": asset, **raw}, idempotency_key
        )

    def get_withdrawal(self, idempotency_key: str) -> MovementReceipt | None:
        raise CapabilityNotSupportedError(
            self.name,
            "ccxt cannot look a withdrawal up by idempotency key; use the venue id "
            "returned in the receipt's external_id and reconcile by hand",
        )

    def deposit_address(self, asset: str, chain: str) -> str:
        self._require(Capability.DEPOSIT_ADDRESS)
        raw = self._read(
            "fetch_deposit_address",
            lambda: self.exchange.fetch_deposit_address(asset, {"network": chain}),
        )
        address = raw.get("address")
        if not address:
            raise MalformedResponseError(
                self.name, f"deposit address for {asset} on {chain} is missing"
            )
        return str(address)

    def get_deposit(self, reference: str) -> MovementReceipt | None:
        self._require(Capability.TRANSFER_STATUS)
        deposits = self._read("fetch_deposits", self.exchange.fetch_deposits)
        for raw in deposits:
            if reference in (raw.get("txid"), raw.get("id")):
                return self._parser.transfer(raw, reference)
        return None

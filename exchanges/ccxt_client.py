"""`CcxtExchangeClient`: the `ExchangeClient` port over a (sync) ccxt exchange object.

The exchange object is injected, so tests replay recorded venue traffic through it and the
registry builds a real one with credentials from the environment. What the adapter adds to
ccxt: the venue's quirks (`exchanges.venue_quirks`: what is refused and why, client-id
formats, fee, funding and mark sources), symbols as base assets ("BTC/USDC:USDC" -> "BTC"),
every number range-checked at the boundary, typed errors, and a bounded retry with backoff
for reads only (a write is never resent blindly). Orders live in `exchanges.ccxt_orders`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import ccxt

from core.clock import Clock, SystemClock
from core.market import FundingRate, Instrument, TopOfBook
from exchanges.base import (
    Balance,
    Capability,
    CapabilityNotSupportedError,
    MalformedResponseError,
    MovementReceipt,
    OrderRequest,
    Position,
    VenueOrder,
)
from exchanges.ccxt_orders import CcxtOrders
from exchanges.ccxt_parsing import CcxtParser
from exchanges.ccxt_session import CcxtSession
from exchanges.ccxt_venues import SETTLE_PREFERENCE
from exchanges.venue_quirks import (
    FeeSource,
    FundingSource,
    MarkSource,
    VenueQuirks,
    quirks_for,
)


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
        sleep: Callable[[float], None] | None = None,
        quirks: VenueQuirks | None = None,
    ) -> None:
        self.name = venue
        self.exchange = exchange
        clock = clock or SystemClock()
        self.quirks = quirks or quirks_for(venue)
        self._session = CcxtSession(
            self.quirks, exchange, clock, read_attempts, backoff_s, sleep or clock.sleep
        )
        self._parser = CcxtParser(self.quirks, clock)
        self._orders = CcxtOrders(self._session, self._parser)

    def __repr__(self) -> str:  # never shows the exchange object (it holds credentials)
        return f"CcxtExchangeClient({self.name!r})"

    def capabilities(self) -> frozenset[Capability]:
        return self._session.capabilities()

    def venue_client_id(self, client_order_id: str) -> str:
        """Our client order id in this venue's form (see `VenueQuirks.client_ids`)."""
        return self.quirks.client_ids.derive(client_order_id)

    # ---------------------------------------------------------------- market data

    def instruments(self) -> Sequence[Instrument]:
        self._session.require(Capability.INSTRUMENTS)
        result = []
        for base, market in sorted(self._session.perpetuals().items()):
            fees = None
            if self.quirks.fees is FeeSource.TRADING_FEE:
                fees = self._trading_fee(market)
            result.append(self._parser.instrument(base, market, fees))
        return result

    def _trading_fee(self, market: Mapping[str, Any]) -> Mapping[str, Any]:
        symbol = market["symbol"]
        fee = self._session.answer_object(
            "fetch_trading_fee",
            self._session.read(
                "fetch_trading_fee", lambda: self.exchange.fetch_trading_fee(symbol)
            ),
        )
        if fee.get("symbol") != symbol:
            raise MalformedResponseError(
                self.name,
                f"fetch_trading_fee: field 'symbol' is {fee.get('symbol')!r}, asked for {symbol}",
            )
        return fee

    def funding_rates(self, symbols: Sequence[str] | None = None) -> Sequence[FundingRate]:
        self._session.require(Capability.FUNDING_RATES)
        funding = self.quirks.funding
        assert funding is not None, "a venue without a funding source refuses FUNDING_RATES"
        bases = list(symbols) if symbols is not None else sorted(self._session.perpetuals())
        wanted = {self._session.market(b)["symbol"]: b for b in bases}
        if funding.source is FundingSource.HISTORY:
            return [self._settled_rate(symbol, base) for symbol, base in wanted.items()]
        return [self._current_rate(symbol, base) for symbol, base in wanted.items()]

    def _current_rate(self, ccxt_symbol: str, base: str) -> FundingRate:
        """The venue's current rate, with the interval its market list states."""
        funding = self.quirks.funding
        assert funding is not None and funding.interval_field, "a current-rate source names it"
        raw = self._session.read(
            "fetch_funding_rate", lambda: self.exchange.fetch_funding_rate(ccxt_symbol)
        )
        if raw.get("symbol") != ccxt_symbol:
            raise MalformedResponseError(
                self.name,
                f"fetch_funding_rate: field 'symbol' is {raw.get('symbol')!r}, "
                f"asked for {ccxt_symbol}",
            )
        info = self._session.market(base).get("info") or {}
        interval = self._parser.check.interval_from_ms(
            info.get(funding.interval_field), f"market {ccxt_symbol}", funding.interval_field
        )
        settle = str(self._session.market(base)["settle"])
        return self._parser.funding_rate(base, settle, raw, interval, "fetch_funding_rate")

    def _settled_rate(self, ccxt_symbol: str, base: str) -> FundingRate:
        history = self._session.read(
            "fetch_funding_rate_history",
            lambda: self.exchange.fetch_funding_rate_history(ccxt_symbol, limit=3),
        )
        settle = str(self._session.market(base)["settle"])
        return self._parser.settled_funding_rate(
            base, settle, history, "fetch_funding_rate_history"
        )

    def top_of_book(self, symbol: str) -> TopOfBook:
        self._session.require(Capability.ORDER_BOOK)
        ccxt_symbol = self._session.market(symbol)["symbol"]
        book = self._session.read(
            "fetch_order_book", lambda: self.exchange.fetch_order_book(ccxt_symbol)
        )
        return self._parser.top_of_book(symbol, book)

    # ---------------------------------------------------------------- orders

    def place_order(self, request: OrderRequest) -> VenueOrder:
        """Place an order under its client id; if the venue already has it, return that one."""
        return self._orders.place(request)

    def get_order(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        """The order with this client id, or None if the venue never received it."""
        self._session.require(Capability.CLIENT_ORDER_ID_LOOKUP)
        return self._orders.lookup(symbol, client_order_id)

    def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrder:
        return self._orders.cancel(symbol, client_order_id)

    def open_orders(self, symbol: str | None = None) -> Sequence[VenueOrder]:
        raise CapabilityNotSupportedError(
            self.name,
            "listing open orders needs perpbot's client ids, which only the orders table "
            "knows; look each order up with get_order",
        )

    # ---------------------------------------------------------------- account

    def positions(self) -> Sequence[Position]:
        self._session.require(Capability.POSITIONS)
        raw = self._session.read("fetch_positions", self.exchange.fetch_positions)
        held = [entry for entry in raw if entry.get("contracts")]
        infos = self._market_infos() if held and self.quirks.mark is MarkSource.MARKET_INFO else {}
        result = []
        for entry in held:
            symbol = entry.get("symbol")
            base = self._session.base_of(symbol, "fetch_positions")
            if infos:
                info = infos.get(str(symbol), {})
                field = self.quirks.mark_field
                mark = None if field is None else info.get(field)
                fraction = info.get(self.quirks.margin_fraction_field or "")
                result.append(self._parser.position(base, entry, mark, fraction))
            else:
                result.append(self._parser.position(base, entry, entry.get("markPrice")))
        return result

    def _market_infos(self) -> dict[str, Mapping[str, Any]]:
        """The venue's own market entries, fetched fresh (it publishes marks there)."""
        markets = self._session.read("fetch_markets", self.exchange.fetch_markets)
        return {m["symbol"]: m.get("info") or {} for m in markets}

    def balance(self) -> Balance:
        self._session.require(Capability.BALANCE)
        raw = self._session.read("fetch_balance", self.exchange.fetch_balance)
        settles = [m["settle"] for m in self._session.perpetuals().values()]
        asset = next((a for a in SETTLE_PREFERENCE if a in settles), None)
        if asset is None:
            raise MalformedResponseError(self.name, "fetch_balance: no perpetual to settle in")
        return self._parser.balance(raw, asset)

    # ---------------------------------------------------------------- transfers

    def withdraw(
        self, asset: str, amount: Decimal, address: str, chain: str, idempotency_key: str
    ) -> MovementReceipt:
        """Refused on every venue: no withdrawal is in the recorded traffic (see the support
        matrix), and ccxt takes no idempotency key to resolve a lost reply with."""
        self._session.require(Capability.WITHDRAW)
        raise AssertionError("every venue's quirks refuse withdraw")

    def get_withdrawal(self, idempotency_key: str) -> MovementReceipt | None:
        raise CapabilityNotSupportedError(
            self.name,
            "ccxt cannot look a withdrawal up by idempotency key; use the venue id "
            "returned in the receipt's external_id and reconcile by hand",
        )

    def deposit_address(self, asset: str, chain: str) -> str:
        self._session.require(Capability.DEPOSIT_ADDRESS)
        raw = self._session.read(
            "fetch_deposit_address",
            lambda: self.exchange.fetch_deposit_address(asset, {"network": chain}),
        )
        address = raw.get("address")
        if not address or not isinstance(address, str):
            raise MalformedResponseError(
                self.name, f"fetch_deposit_address: field 'address' is {address!r}"
            )
        return address

    def get_deposit(self, reference: str) -> MovementReceipt | None:
        self._session.require(Capability.TRANSFER_STATUS)
        deposits = self._session.read("fetch_deposits", self.exchange.fetch_deposits)
        for raw in deposits:
            if reference in (raw.get("txid"), raw.get("id")):
                return self._parser.transfer(raw, reference)
        return None

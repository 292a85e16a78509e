"""A venue client that sends only reduce-only orders: what a strategy that may take no new
exposure (paused; later: halted) gets in place of its clients.

Every call goes to the wrapped client unchanged except `place_order`, which refuses an order
that is not reduce-only with `OrderRejectedError` naming why, before anything reaches the
venue. A refusal is a venue refusal to every caller (the order executor journals it as
REJECTED and never resends it), so no strategy needs to know about the guard for it to hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from core.market import FundingRate, Instrument, TopOfBook
from exchanges.base import (
    Balance,
    Capability,
    ExchangeClient,
    FundingHistory,
    FundingPayment,
    MovementReceipt,
    OrderRejectedError,
    OrderRequest,
    Position,
    VenueOrder,
)


class ReduceOnlyClient:
    def __init__(self, client: ExchangeClient, reason: str) -> None:
        self._client = client
        self.reason = reason
        self.name = client.name

    def place_order(self, request: OrderRequest) -> VenueOrder:
        if not request.reduce_only:
            raise OrderRejectedError(
                self.name,
                f"order {request.client_order_id} refused before sending: it is not "
                f"reduce-only and no new exposure may be taken ({self.reason})",
            )
        return self._client.place_order(request)

    def capabilities(self) -> frozenset[Capability]:
        return self._client.capabilities()

    def instruments(self) -> Sequence[Instrument]:
        return self._client.instruments()

    def funding_rates(self, symbols: Sequence[str] | None = None) -> Sequence[FundingRate]:
        return self._client.funding_rates(symbols)

    def top_of_book(self, symbol: str) -> TopOfBook:
        return self._client.top_of_book(symbol)

    def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrder:
        return self._client.cancel_order(symbol, client_order_id)

    def get_order(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        return self._client.get_order(symbol, client_order_id)

    def open_orders(self, symbol: str | None = None) -> Sequence[VenueOrder]:
        return self._client.open_orders(symbol)

    def positions(self) -> Sequence[Position]:
        return self._client.positions()

    def balance(self) -> Balance:
        return self._client.balance()

    def withdraw(
        self, asset: str, amount: Decimal, address: str, chain: str, idempotency_key: str
    ) -> MovementReceipt:
        return self._client.withdraw(asset, amount, address, chain, idempotency_key)

    def get_withdrawal(self, idempotency_key: str) -> MovementReceipt | None:
        return self._client.get_withdrawal(idempotency_key)

    def deposit_address(self, asset: str, chain: str) -> str:
        return self._client.deposit_address(asset, chain)

    def get_deposit(self, reference: str) -> MovementReceipt | None:
        return self._client.get_deposit(reference)


class _ReduceOnlyFundingClient(ReduceOnlyClient):
    """The same, for a client that can also list its funding payments (`FundingHistory`)."""

    def __init__(self, client: ExchangeClient, history: FundingHistory, reason: str) -> None:
        super().__init__(client, reason)
        self._history = history

    def funding_payments(self, symbol: str | None, since: datetime) -> Sequence[FundingPayment]:
        return self._history.funding_payments(symbol, since)


def reduce_only(client: ExchangeClient, reason: str) -> ReduceOnlyClient:
    """`client`, sending only reduce-only orders; `reason` says why (in every refusal)."""
    if isinstance(client, FundingHistory):
        return _ReduceOnlyFundingClient(client, client, reason)
    return ReduceOnlyClient(client, reason)

"""A scripted in-memory venue for strategy tests.

A real DEX cannot run here and the paper venue is built elsewhere, so this fake implements
the part of `ExchangeClient` a stateless strategy uses, with the contract that matters:
placing an order twice with the same client order id returns the first order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from core.enums import OrderStatus
from core.market import FundingRate, Instrument, TopOfBook
from exchanges.base import (
    Balance,
    Capability,
    CapabilityNotSupportedError,
    MovementReceipt,
    OrderRejectedError,
    OrderRequest,
    Position,
    VenueOrder,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)


class FakeVenue:
    def __init__(self, name: str = "fakedex", bid: str = "100", ask: str = "101") -> None:
        self.name = name
        self.book = TopOfBook(name, "BTC", Decimal(bid), Decimal(1), Decimal(ask), Decimal(1), T0)
        self.held: list[Position] = []
        self.orders: dict[str, VenueOrder] = {}
        self.calls: list[str] = []
        self.reject_client_ids: set[str] = set()
        self.fail_book_with: Exception | None = None

    def capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.ORDER_BOOK, Capability.TRADING, Capability.POSITIONS})

    def top_of_book(self, symbol: str) -> TopOfBook:
        self.calls.append(f"top_of_book:{symbol}")
        if self.fail_book_with is not None:
            raise self.fail_book_with
        return replace(self.book, symbol=symbol)

    def positions(self) -> Sequence[Position]:
        self.calls.append("positions")
        return list(self.held)

    def open_orders(self, symbol: str | None = None) -> Sequence[VenueOrder]:
        self.calls.append(f"open_orders:{symbol}")
        return [
            o
            for o in self.orders.values()
            if o.status == OrderStatus.OPEN and (symbol is None or o.symbol == symbol)
        ]

    def place_order(self, request: OrderRequest) -> VenueOrder:
        self.calls.append(f"place_order:{request.client_order_id}")
        if request.client_order_id in self.reject_client_ids:
            raise OrderRejectedError(self.name, f"{request.client_order_id}: insufficient margin")
        existing = self.orders.get(request.client_order_id)
        if existing is not None:
            return existing
        order = VenueOrder(
            venue=self.name,
            client_order_id=request.client_order_id,
            venue_order_id=f"v{len(self.orders) + 1}",
            symbol=request.symbol,
            side=request.side,
            order_type=request.order_type,
            quantity=request.quantity,
            price=request.price,
            status=OrderStatus.OPEN,
            filled_qty=Decimal(0),
            avg_fill_price=None,
            fee=Decimal(0),
        )
        self.orders[request.client_order_id] = order
        return order

    def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrder:
        self.calls.append(f"cancel_order:{client_order_id}")
        order = self.orders.get(client_order_id)
        if order is None:
            raise OrderRejectedError(self.name, f"{client_order_id}: no such order")
        cancelled = replace(order, status=OrderStatus.CANCELLED)
        self.orders[client_order_id] = cancelled
        return cancelled

    def get_order(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        return self.orders.get(client_order_id)

    def instruments(self) -> Sequence[Instrument]:
        raise CapabilityNotSupportedError(self.name, "instruments")

    def funding_rates(self, symbols: Sequence[str] | None = None) -> Sequence[FundingRate]:
        raise CapabilityNotSupportedError(self.name, "funding_rates")

    def balance(self) -> Balance:
        raise CapabilityNotSupportedError(self.name, "balance")

    def withdraw(
        self, asset: str, amount: Decimal, address: str, chain: str, idempotency_key: str
    ) -> MovementReceipt:
        raise CapabilityNotSupportedError(self.name, "withdraw")

    def get_withdrawal(self, idempotency_key: str) -> MovementReceipt | None:
        raise CapabilityNotSupportedError(self.name, "get_withdrawal")

    def deposit_address(self, asset: str, chain: str) -> str:
        raise CapabilityNotSupportedError(self.name, "deposit_address")

    def get_deposit(self, reference: str) -> MovementReceipt | None:
        raise CapabilityNotSupportedError(self.name, "get_deposit")

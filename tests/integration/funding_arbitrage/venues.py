"""Wrappers around the real paper venue for behaviours the paper venue does not have.

The paper venue fills market orders completely and answers lookups whenever the database
is up; real venues sometimes fill an IOC order partly, or keep timing out on lookups for a
while. These wrappers add exactly that and forward everything else to the paper venue.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from core.enums import OrderStatus
from core.money import quantize_down
from exchanges.base import OrderRequest, TransientExchangeError, VenueOrder
from exchanges.paper import PaperExchange


class FlakyLookups:
    """Order lookups fail (transiently) while `down` is set."""

    def __init__(self, inner: PaperExchange) -> None:
        self.inner = inner
        self.name = inner.name
        self.down = True

    def get_order(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        if self.down:
            raise TransientExchangeError(self.name, "order lookup timed out (test outage)")
        return self.inner.get_order(symbol, client_order_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class PartialFills:
    """Opening market orders fill only `fraction`; the rest is cancelled, like an IOC order."""

    def __init__(self, inner: PaperExchange, fraction: Decimal, step: Decimal) -> None:
        self.inner = inner
        self.name = inner.name
        self.fraction = fraction
        self.step = step
        self.asked: dict[str, Decimal] = {}

    def place_order(self, request: OrderRequest) -> VenueOrder:
        if request.reduce_only:
            return self.inner.place_order(request)
        self.asked[request.client_order_id] = request.quantity
        part = quantize_down(request.quantity * self.fraction, self.step)
        return self._partial(self.inner.place_order(replace(request, quantity=part)))

    def get_order(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        found = self.inner.get_order(symbol, client_order_id)
        return None if found is None else self._partial(found)

    def _partial(self, order: VenueOrder) -> VenueOrder:
        asked = self.asked.get(order.client_order_id)
        if asked is None or order.filled_qty >= asked:
            return order
        return replace(order, quantity=asked, status=OrderStatus.CANCELLED)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class BusyVenue:
    """`place_order` answers "busy" (transient: nothing placed) the first `failures` times."""

    def __init__(self, inner: PaperExchange, failures: int) -> None:
        self.inner = inner
        self.name = inner.name
        self.failures = failures
        self.attempts = 0

    def place_order(self, request: OrderRequest) -> VenueOrder:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise TransientExchangeError(self.name, "HTTP 503: venue busy (test)")
        return self.inner.place_order(request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

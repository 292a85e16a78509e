"""`BridgeManager`: one interface (`quote`, `send`, `status`) over several bridge protocols.

Route choice: among protocols that are up and serve the route, the lowest total cost wins,
where total cost = fee + amount x time value per hour x hours in flight. A protocol that is
down is skipped; one that fails a transfer can be excluded from the next choice.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal

from exchanges.base import MovementReceipt
from exchanges.bridges.base import (
    BridgeProtocol,
    BridgeQuote,
    BridgeRejectedError,
    BridgeRoute,
    BridgeUnavailableError,
)
from strategies.components.transfer_types import TransferRefusedError, TransientTransferError

_SECONDS_PER_HOUR = Decimal(3600)


class NoBridgeRouteError(TransferRefusedError):
    """No configured protocol serves this pair of chains at all."""


class NoBridgeAvailableError(TransientTransferError):
    """Protocols serve the route, but none is up (or all were excluded) right now."""


class BridgeManager:
    def __init__(
        self, protocols: Sequence[BridgeProtocol], time_value_per_hour: Decimal = Decimal(0)
    ) -> None:
        names = [p.name for p in protocols]
        if len(set(names)) != len(names):
            raise ValueError(f"bridge protocol names must be unique, got {names}")
        self._protocols = {p.name: p for p in protocols}
        self._time_value_per_hour = time_value_per_hour

    @property
    def protocol_names(self) -> list[str]:
        return list(self._protocols)

    def check_route(self, route: BridgeRoute) -> None:
        """Refuse a route that no configured protocol serves (up or down)."""
        if not any(p.supports(route) for p in self._protocols.values()):
            known = ", ".join(self._protocols) or "none"
            raise NoBridgeRouteError(
                f"no bridge protocol connects {route.from_chain} to {route.to_chain} for "
                f"{route.asset} (configured protocols: {known})"
            )

    def total_cost(self, quote: BridgeQuote) -> Decimal:
        hours = Decimal(str(quote.latency.total_seconds())) / _SECONDS_PER_HOUR
        return quote.fee + quote.amount * self._time_value_per_hour * hours

    def quote(
        self, route: BridgeRoute, amount: Decimal, exclude: Collection[str] = ()
    ) -> list[BridgeQuote]:
        """Quotes from every protocol that is up and serves the route, best first."""
        quotes = []
        for protocol in self._protocols.values():
            if protocol.name in exclude or not protocol.supports(route):
                continue
            if not protocol.available():
                continue
            try:
                quote = protocol.quote(route, amount)
            except (BridgeRejectedError, BridgeUnavailableError):
                continue
            if quote.fee < amount:
                quotes.append(quote)
        return sorted(quotes, key=lambda q: (self.total_cost(q), q.latency, q.protocol))

    def best(
        self, route: BridgeRoute, amount: Decimal, exclude: Collection[str] = ()
    ) -> BridgeQuote:
        self.check_route(route)
        quotes = self.quote(route, amount, exclude)
        if not quotes:
            skipped = f" (excluded after failures: {', '.join(sorted(exclude))})" if exclude else ""
            raise NoBridgeAvailableError(
                f"no bridge protocol for {route} is available right now{skipped}"
            )
        return quotes[0]

    def send(
        self,
        protocol: str,
        key: str,
        route: BridgeRoute,
        amount: Decimal,
        from_address: str,
        to_address: str,
    ) -> MovementReceipt:
        return self._protocol(protocol).send(key, route, amount, from_address, to_address)

    def status(self, protocol: str, key: str) -> MovementReceipt | None:
        return self._protocol(protocol).status(key)

    def _protocol(self, name: str) -> BridgeProtocol:
        try:
            return self._protocols[name]
        except KeyError:
            known = ", ".join(self._protocols) or "none"
            raise TransferRefusedError(
                f"bridge protocol {name!r} is not configured (configured: {known})"
            ) from None

"""Ports for moving money between chains (bridges) and on a chain (wallet transfers).

The same shape as the venue port (`exchanges.base`): Decimal money, UTC times, and every
send carries the caller's idempotency key, so a send repeated with the same key returns the
first transfer instead of making a second one. A send is reported as a `MovementReceipt`,
the venue port's receipt (its party: the protocol, or the chain). Errors reuse the venue
error classes, which say what the caller may do next (`TransientExchangeError`: nothing
happened, retry; `OrderRejectedError`: refused, do not repeat; `UnknownOutcomeError`: look
the key up).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Protocol, runtime_checkable

from exchanges.base import (
    MovementReceipt,
    OrderRejectedError,
    TransientExchangeError,
    UnknownOutcomeError,
)


class BridgeUnavailableError(TransientExchangeError):
    """The bridge protocol is down (paused, congested): nothing was sent, try later."""


class BridgeRejectedError(OrderRejectedError):
    """The bridge refused the transfer (route, amount, address): do not repeat it as is."""


class BridgeUnknownOutcomeError(UnknownOutcomeError):
    """The send may or may not have happened: look the key up."""


class ChainRejectedError(OrderRejectedError):
    """A wallet transfer was refused (unknown address, insufficient balance)."""


@dataclass(frozen=True, slots=True)
class BridgeRoute:
    from_chain: str
    to_chain: str
    asset: str

    def __str__(self) -> str:
        return f"{self.asset} {self.from_chain}->{self.to_chain}"


@dataclass(frozen=True, slots=True)
class BridgeQuote:
    """What sending `amount` over `protocol` would cost and take."""

    protocol: str
    route: BridgeRoute
    amount: Decimal
    fee: Decimal
    latency: timedelta

    @property
    def received(self) -> Decimal:
        return self.amount - self.fee


@runtime_checkable
class BridgeProtocol(Protocol):
    """One bridge protocol (CCTP-like burn/mint, a relayer network...)."""

    name: str

    def available(self) -> bool:
        """False while the protocol is down: routes over it are skipped."""
        ...

    def supports(self, route: BridgeRoute) -> bool: ...

    def quote(self, route: BridgeRoute, amount: Decimal) -> BridgeQuote:
        """Fee and latency for `amount`; raises `BridgeRejectedError` for a route it lacks."""
        ...

    def send(
        self, key: str, route: BridgeRoute, amount: Decimal, from_address: str, to_address: str
    ) -> MovementReceipt:
        """Send once per key: the same key again returns the first transfer."""
        ...

    def status(self, key: str) -> MovementReceipt | None:
        """The transfer sent with `key`, or None if the protocol never received it."""
        ...


@runtime_checkable
class WalletNetwork(Protocol):
    """Our wallets on each chain: send from one of them to an address on the same chain."""

    def send(
        self, chain: str, key: str, from_address: str, to_address: str, asset: str, amount: Decimal
    ) -> MovementReceipt:
        """Send once per (chain, key): the same key again returns the first transfer."""
        ...

    def status(self, chain: str, key: str) -> MovementReceipt | None: ...

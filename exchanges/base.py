"""The venue port: what perpbot needs from a perp DEX, in normalized types.

Money is Decimal, times are timezone-aware UTC, symbols are base assets ("BTC"). The market
value types it returns (`Instrument`, `FundingRate`, `TopOfBook`) live in `core.market`, as
other layers share them; orders, positions, balances and transfers are the port's own. Orders are
placed, cancelled and looked up by the **client order id** perpbot chose, so an intent can be
resolved after a timeout without placing it twice.

Errors say what the caller may do next:
- `TransientExchangeError`: nothing happened; retrying is safe.
- `OrderRejectedError`: the venue refused; do not retry the same request.
- `UnknownOutcomeError`: the request may or may not have taken effect (timeout after
  sending); look the client id / idempotency key up before anything else.
- `CapabilityNotSupportedError`: this venue (or its adapter) cannot do that at all.
- `MalformedResponseError`: the venue answered with something we cannot trust.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

from core.enums import MovementState, OrderSide, OrderStatus, OrderType
from core.errors import PerpbotError
from core.market import FundingRate, Instrument, TopOfBook


class ExchangeError(PerpbotError):
    def __init__(self, venue: str, message: str) -> None:
        super().__init__(f"{venue}: {message}")
        self.venue = venue


class TransientExchangeError(ExchangeError):
    """Network hiccup, rate limit, venue busy: nothing took effect, safe to retry."""


class OrderRejectedError(ExchangeError):
    """The venue refused the request (size, margin, reduce-only...). Do not retry as is."""


class UnknownOutcomeError(ExchangeError):
    """Sent, but no answer: look the client id / key up before resending."""


class CapabilityNotSupportedError(ExchangeError):
    """The venue or adapter cannot do this (e.g. withdrawals through the API)."""


class MalformedResponseError(ExchangeError):
    """The venue's answer is missing fields or has values we cannot parse."""


class Capability(StrEnum):
    INSTRUMENTS = "instruments"
    FUNDING_RATES = "funding_rates"
    ORDER_BOOK = "order_book"
    TRADING = "trading"  # placing orders
    CLIENT_ORDER_ID_LOOKUP = "client_order_id_lookup"
    CANCEL_ORDER = "cancel_order"
    POSITIONS = "positions"
    BALANCE = "balance"
    WITHDRAW = "withdraw"
    DEPOSIT_ADDRESS = "deposit_address"
    TRANSFER_STATUS = "transfer_status"
    # `withdraw` takes the idempotency key and the venue keeps one withdrawal per key, so a
    # resend under the same key after an unknown outcome cannot withdraw twice. Declared only
    # where that is proven: the paper venue (ccxt's `withdraw` takes no key).
    WITHDRAWAL_KEY_DEDUPE = "withdrawal_key_dedupe"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    client_order_id: str
    symbol: str
    side: OrderSide
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    reduce_only: bool = False
    post_only: bool = False


@dataclass(frozen=True, slots=True)
class VenueOrder:
    """An order as the venue knows it."""

    venue: str
    client_order_id: str
    venue_order_id: str | None
    symbol: str
    side: OrderSide
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None
    status: OrderStatus
    filled_qty: Decimal
    avg_fill_price: Decimal | None
    fee: Decimal  # quote currency (USD) paid so far
    reduce_only: bool = False
    updated_at: datetime | None = None

    @property
    def remaining_qty(self) -> Decimal:
        return self.quantity - self.filled_qty


@dataclass(frozen=True, slots=True)
class Position:
    venue: str
    symbol: str
    qty: Decimal  # signed base quantity: > 0 long, < 0 short
    entry_price: Decimal
    mark_price: Decimal
    unrealized_pnl: Decimal
    liquidation_price: Decimal | None
    margin: Decimal
    leverage: Decimal

    @property
    def notional(self) -> Decimal:
        return abs(self.qty) * self.mark_price


@dataclass(frozen=True, slots=True)
class Balance:
    venue: str
    asset: str
    total: Decimal  # equity: collateral + unrealized PnL
    available: Decimal  # free to withdraw or use as new margin
    margin_used: Decimal


@dataclass(frozen=True, slots=True)
class FundingPayment:
    """One funding settlement as it hit this account: what the venue actually paid/charged."""

    venue: str
    symbol: str
    funding_time: datetime
    amount: Decimal  # USD, signed: > 0 received, < 0 paid
    rate: Decimal  # per funding interval, as settled
    position_qty: Decimal  # signed base quantity the payment was computed on
    mark_price: Decimal


@dataclass(frozen=True, slots=True)
class MovementReceipt:
    """A movement of money as the party carrying it reports it: a venue withdrawal or
    deposit, a bridge transfer, or a send between two addresses on one chain.

    One shape for all of them, so the transfer steps read every report the same way; the
    fields a kind of movement does not have stay None.
    """

    party: str  # who reports it: the venue, the bridge protocol, or the chain
    reference: str  # the idempotency key we gave (a deposit: its on-chain reference)
    asset: str
    amount: Decimal  # debited from the sender (a deposit: credited to the account)
    state: MovementState
    fee: Decimal = Decimal(0)  # kept by the venue or bridge; refunded when it fails
    chain: str | None = None  # the chain it moves on (a bridge transfer: the source chain)
    to_chain: str | None = None  # a bridge transfer's destination chain
    from_address: str | None = None  # the sending wallet (bridge transfers, chain sends)
    to_address: str | None = None  # where the money goes (a deposit: the deposit address)
    eta: datetime | None = None  # when a pending movement is expected to settle
    tx_hash: str | None = None
    external_id: str | None = None  # the party's own id for it, where it gives one
    detail: str | None = None  # why it failed

    @property
    def received(self) -> Decimal:
        """What arrives at the other end once it completes."""
        return self.amount - self.fee


@runtime_checkable
class ExchangeClient(Protocol):
    """One venue. Every method may raise the `ExchangeError` subclasses above."""

    name: str

    def capabilities(self) -> frozenset[Capability]: ...

    def instruments(self) -> Sequence[Instrument]: ...

    def funding_rates(self, symbols: Sequence[str] | None = None) -> Sequence[FundingRate]: ...

    def top_of_book(self, symbol: str) -> TopOfBook: ...

    def place_order(self, request: OrderRequest) -> VenueOrder:
        """Place an order; placing the same client order id again returns that order."""
        ...

    def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrder: ...

    def get_order(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        """The order with this client id, or None if the venue never received it."""
        ...

    def open_orders(self, symbol: str | None = None) -> Sequence[VenueOrder]: ...

    def positions(self) -> Sequence[Position]: ...

    def balance(self) -> Balance: ...

    def withdraw(
        self, asset: str, amount: Decimal, address: str, chain: str, idempotency_key: str
    ) -> MovementReceipt:
        """Withdraw; repeating the same key returns the first withdrawal, never a second."""
        ...

    def get_withdrawal(self, idempotency_key: str) -> MovementReceipt | None: ...

    def deposit_address(self, asset: str, chain: str) -> str: ...

    def get_deposit(self, reference: str) -> MovementReceipt | None:
        """A deposit credited (or pending) for an on-chain reference such as a tx hash."""
        ...


@runtime_checkable
class FundingHistory(Protocol):
    """A venue client that can list the funding settled on its account (not every venue
    can; check with `isinstance(client, FundingHistory)`). Kept apart from `ExchangeClient`
    so that adding it broke no existing adapter."""

    def funding_payments(self, symbol: str | None, since: datetime) -> Sequence[FundingPayment]:
        """Funding settled on this account for `symbol` (None: every symbol, so a monitoring
        pass asks each venue once) with funding time after `since`, oldest first."""
        ...


@runtime_checkable
class VenueClientIds(Protocol):
    """A venue client whose venue knows an order by its own form of our client order id
    (hex, an integer, a shorter text), derived deterministically. A client without it (the
    paper venue) sends ours as it is."""

    def venue_client_id(self, client_order_id: str) -> str: ...

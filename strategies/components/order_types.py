"""Order types every strategy may use: what an order is for (`OrderIntent`), what became of
it (`OrderRecord`), and the ports that record and send orders (`OrderJournal`,
`OrderExecution`).

Pure Python: no SQLAlchemy, no venue library, so implementations can import it (through
`base_components`). The backends are `order_journal.py` (PostgreSQL + in-memory journal) and
`order_executor.py` (`OrderExecutor`, which implements `OrderExecution`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

from core.enums import TERMINAL_ORDER_STATUSES, OrderSide, OrderStatus, OrderType
from core.errors import PerpbotError
from exchanges.base import ExchangeClient, OrderRequest, VenueClientIds, VenueOrder

# (venue, our client order id) -> the venue's form of it.
VenueIdResolver = Callable[[str, str], str]


def venue_ids_of(exchanges: Mapping[str, ExchangeClient]) -> VenueIdResolver:
    """The venue's client id for an order, as each venue's client derives it."""

    def resolve(venue: str, client_order_id: str) -> str:
        client = exchanges.get(venue)
        # `is not None` first: mypy cannot intersect `ExchangeClient | None` with the protocol.
        if client is not None and isinstance(client, VenueClientIds):
            return client.venue_client_id(client_order_id)
        return client_order_id

    return resolve


def same_ids(venue: str, client_order_id: str) -> str:
    """For venues that take our client ids as they are (the paper venue)."""
    return client_order_id


class OrderIntentConflictError(PerpbotError):
    """A client order id is already recorded for a different order."""


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """An order a strategy wants, with the client id that makes it idempotent."""

    client_order_id: str
    strategy_name: str
    venue: str
    symbol: str
    side: OrderSide
    order_type: OrderType
    quantity: Decimal
    purpose: str
    price: Decimal | None = None
    reduce_only: bool = False
    post_only: bool = False
    position_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        if not self.client_order_id or len(self.client_order_id) > 64:
            raise ValueError(f"client_order_id must be 1-64 characters: {self.client_order_id!r}")
        if self.quantity <= 0:
            raise ValueError(f"{self.client_order_id}: quantity must be positive: {self.quantity}")
        if self.order_type is OrderType.LIMIT and (self.price is None or self.price <= 0):
            raise ValueError(f"{self.client_order_id}: a limit order needs a positive price")

    def request(self) -> OrderRequest:
        return OrderRequest(
            client_order_id=self.client_order_id,
            symbol=self.symbol,
            side=self.side,
            order_type=self.order_type,
            quantity=self.quantity,
            price=self.price,
            reduce_only=self.reduce_only,
            post_only=self.post_only,
        )

    def _identity(self) -> tuple[object, ...]:
        return (
            self.venue,
            self.symbol,
            self.side,
            self.order_type,
            self.quantity,
            self.price,
            self.reduce_only,
        )


@dataclass(frozen=True, slots=True)
class OrderRecord:
    intent: OrderIntent
    status: OrderStatus
    filled_qty: Decimal = Decimal(0)
    avg_fill_price: Decimal | None = None
    fee_usd: Decimal = Decimal(0)
    venue_order_id: str | None = None
    error: str | None = None
    # The venue's form of the client id (None: the venue uses ours as it is).
    venue_client_order_id: str | None = None

    @property
    def client_order_id(self) -> str:
        return self.intent.client_order_id

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_ORDER_STATUSES

    @property
    def remaining_qty(self) -> Decimal:
        return self.intent.quantity - self.filled_qty


@runtime_checkable
class OrderJournal(Protocol):
    def record_intent(self, intent: OrderIntent) -> OrderRecord:
        """Store the intent (status INTENT); the same intent again returns the stored record."""
        ...

    def get(self, client_order_id: str) -> OrderRecord | None: ...

    def set_status(
        self, client_order_id: str, status: OrderStatus, error: str | None = None
    ) -> OrderRecord: ...

    def record_venue_state(self, order: VenueOrder) -> OrderRecord:
        """Copy what the venue says (status, fills, fee, venue id) onto the record."""
        ...

    def find(
        self,
        strategy_name: str,
        statuses: Sequence[OrderStatus] | None = None,
        position_id: uuid.UUID | None = None,
        purpose: str | None = None,
    ) -> list[OrderRecord]: ...


@runtime_checkable
class OrderExecution(Protocol):
    """Sends orders so that a retry never places a second one (see `OrderExecutor`)."""

    @property
    def journal(self) -> OrderJournal: ...

    def submit(self, intent: OrderIntent) -> OrderRecord:
        """Place `intent` once, whatever happened to earlier attempts with its client id."""
        ...

    def refresh(self, client_order_id: str) -> OrderRecord:
        """Bring the record up to date with the venue (fills, cancels)."""
        ...

    def cancel(self, client_order_id: str) -> OrderRecord:
        """Cancel a resting order; an order already done is returned as it is."""
        ...

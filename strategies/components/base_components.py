"""Component interfaces that strategies depend on, and the domain types they exchange.

Implementations (`strategies/implementations/**`) import this module and the other pure
ones beside it (`kit`, `concurrency`, `transfer_types`), plus the two category modules: the
PostgreSQL and in-memory backends are adapters that the kits (`kits.py`) provide. Nothing
here imports SQLAlchemy, Celery or a venue library.

- `PositionManager`: positions as `PositionRecord` values (Decimal money, UTC times).
- `StateManager`: a strategy's free-form JSON state with optimistic versioning.
- `EventSink`: the append-only audit trail.
- `OrderExecution` (with `OrderIntent`, `OrderRecord`, defined in `order_types`): every
  order is journaled before it is sent and a retry never places it twice.
- `FundingRateSource`, `FundingPaymentStore` (defined in `funding_types`): funding rates
  to read, and the funding each position's legs were paid.
- `VenueClients`: the clients of one strategy's venues, looked up with a clear error.
- `StrategyAudit`: one strategy's view of the audit trail (by strategy or by position).

The kit every backend comes from is `kit.ComponentKit`; each strategy category and
implementation declares the typed bundle of components it needs and builds it from a kit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol, runtime_checkable

from core.enums import ACTIVE_POSITION_STATUSES, PositionOperation, PositionStatus
from core.errors import ConfigError, PerpbotError
from exchanges.base import ExchangeClient

# Re-exported (the `X as X` form) so that implementations need only this module.
from strategies.components.funding_types import FundingLegSummary as FundingLegSummary
from strategies.components.funding_types import FundingPaymentRecord as FundingPaymentRecord
from strategies.components.funding_types import FundingPaymentStore as FundingPaymentStore
from strategies.components.funding_types import FundingRateSource as FundingRateSource
from strategies.components.order_types import OrderExecution as OrderExecution
from strategies.components.order_types import OrderIntent as OrderIntent
from strategies.components.order_types import OrderIntentConflictError as OrderIntentConflictError
from strategies.components.order_types import OrderJournal as OrderJournal
from strategies.components.order_types import OrderRecord as OrderRecord

# ---------------------------------------------------------------- errors


class PositionError(PerpbotError):
    """Base class for position-manager errors (both backends raise the same ones)."""


class InvalidPositionError(PositionError, ValueError):
    """A value cannot be stored: the message names the field."""


class PositionNotFoundError(PositionError, LookupError):
    """No position has this id."""


class ActivePositionExistsError(PositionError):
    """The strategy already holds an active position on this symbol and venue pair."""

    def __init__(self, message: str, existing_id: uuid.UUID | None) -> None:
        super().__init__(message)
        self.existing_id = existing_id


class PositionTransitionError(PositionError):
    """The requested status change is not allowed from the position's current status."""


class InvalidStateError(PerpbotError, ValueError):
    """A strategy state cannot be stored as JSON: the message names the path inside it."""


class ComponentMissingError(ConfigError):
    """A strategy needs a component (or a venue) that was not injected."""


# ---------------------------------------------------------------- positions

# Which status may follow which. CLOSED and FAILED are terminal: a finished position is a
# record, never reopened (a new position gets a new row).
ALLOWED_POSITION_TRANSITIONS: Mapping[PositionStatus, frozenset[PositionStatus]] = MappingProxyType(
    {
        PositionStatus.OPENING: frozenset(
            {
                PositionStatus.OPEN,
                PositionStatus.CLOSING,
                PositionStatus.FAILED,
                PositionStatus.NEEDS_RECONCILE,
            }
        ),
        PositionStatus.OPEN: frozenset(
            {PositionStatus.CLOSING, PositionStatus.CLOSED, PositionStatus.NEEDS_RECONCILE}
        ),
        # CLOSING -> OPEN: the closing orders were rejected and both legs are still held.
        PositionStatus.CLOSING: frozenset(
            {PositionStatus.OPEN, PositionStatus.CLOSED, PositionStatus.NEEDS_RECONCILE}
        ),
        PositionStatus.NEEDS_RECONCILE: frozenset(
            {
                PositionStatus.OPEN,
                PositionStatus.CLOSING,
                PositionStatus.CLOSED,
                PositionStatus.FAILED,
            }
        ),
        PositionStatus.CLOSED: frozenset(),
        PositionStatus.FAILED: frozenset(),
    }
)


@dataclass(frozen=True, slots=True)
class NewPosition:
    """What a strategy knows when it opens a position (the manager fills in the rest)."""

    strategy_name: str
    symbol: str
    long_dex: str | None
    short_dex: str | None
    size_usd: Decimal
    entry_divergence: Decimal | None = None
    status: PositionStatus = PositionStatus.OPENING


@dataclass(frozen=True, slots=True)
class PositionUpdate:
    """Fields to change on an active position; `None` means "leave as is".

    Values are absolute (the new total), not increments: the caller read the position,
    computed the new totals and may pass `expected_version` to refuse a stale write.
    """

    size_usd: Decimal | None = None
    long_qty: Decimal | None = None
    short_qty: Decimal | None = None
    long_entry_price: Decimal | None = None
    short_entry_price: Decimal | None = None
    entry_divergence: Decimal | None = None
    current_divergence: Decimal | None = None
    long_funding_usd: Decimal | None = None
    short_funding_usd: Decimal | None = None
    fees_usd: Decimal | None = None
    unrealized_pnl_usd: Decimal | None = None
    last_monitored_at: datetime | None = None
    close_failed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PositionRecord:
    """A position as stored. Money and rates are Decimal with 18 decimal places."""

    id: uuid.UUID
    strategy_name: str
    symbol: str
    long_dex: str | None
    short_dex: str | None
    size_usd: Decimal
    long_qty: Decimal
    short_qty: Decimal
    long_entry_price: Decimal | None
    short_entry_price: Decimal | None
    entry_divergence: Decimal | None  # hourly basis: short venue's rate minus long venue's
    current_divergence: Decimal | None
    long_funding_usd: Decimal
    short_funding_usd: Decimal
    fees_usd: Decimal
    realized_pnl_usd: Decimal
    unrealized_pnl_usd: Decimal
    status: PositionStatus
    close_reason: str | None
    # What an unfinished position is in the middle of, and why that operation was started
    # (set by the status changes, see `mark_status`); None once it is OPEN or finished.
    operation: PositionOperation | None
    operation_reason: str | None
    close_failed_at: datetime | None  # when a close last failed and the legs were rehedged
    opened_at: datetime | None
    closed_at: datetime | None
    last_monitored_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_POSITION_STATUSES

    @property
    def funding_usd(self) -> Decimal:
        """Funding collected on both legs (negative: paid)."""
        return self.long_funding_usd + self.short_funding_usd


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One entry of the audit trail."""

    kind: str
    entity_type: str
    entity_id: str | None
    strategy_name: str | None
    payload: Mapping[str, Any]
    occurred_at: datetime


@runtime_checkable
class PositionManager(Protocol):
    """Tracks a strategy's positions. Every change is atomic with its audit event.

    Both backends validate identically and raise the same errors: `InvalidPositionError`,
    `PositionNotFoundError`, `ActivePositionExistsError` (one active position per strategy,
    symbol, long venue and short venue), `PositionTransitionError`, and
    `core.errors.ConcurrencyConflictError` when `expected_version` is stale.
    """

    def open(self, position: NewPosition) -> PositionRecord:
        """Record a new position in status OPENING (default) or OPEN."""
        ...

    def get(self, position_id: uuid.UUID) -> PositionRecord | None: ...

    def update(
        self,
        position_id: uuid.UUID,
        changes: PositionUpdate,
        expected_version: int | None = None,
    ) -> PositionRecord:
        """Change fields of an active position; a change to nothing is a no-op."""
        ...

    def mark_status(
        self,
        position_id: uuid.UUID,
        status: PositionStatus,
        reason: str | None = None,
        expected_version: int | None = None,
        operation: PositionOperation | None = None,
    ) -> PositionRecord:
        """Move to `status` (not CLOSED: use `close`). Repeating the current status is a no-op.

        The record's `operation` follows: CLOSING is the CLOSE operation (with `reason`);
        NEEDS_RECONCILE records `operation` (default: the one in progress, else RECONCILE)
        with `reason` — except that a close in doubt keeps the reason it was started for;
        OPEN, CLOSED and FAILED clear it.
        """
        ...

    def close(
        self,
        position_id: uuid.UUID,
        reason: str,
        realized_pnl_usd: Decimal,
        expected_version: int | None = None,
    ) -> PositionRecord:
        """Mark CLOSED with reason and realized PnL. Closing a closed position is a no-op."""
        ...

    def find(
        self,
        strategy_name: str | None = None,
        statuses: Sequence[PositionStatus] | None = None,
        symbol: str | None = None,
    ) -> list[PositionRecord]:
        """Positions matching every given filter, oldest first."""
        ...

    def find_active(self, strategy_name: str, symbol: str | None = None) -> list[PositionRecord]:
        """The strategy's positions in an active status (opening, open, closing, reconcile)."""
        ...

    def history(self, position_id: uuid.UUID) -> list[AuditEvent]:
        """The audit events of one position, oldest first."""
        ...


# ---------------------------------------------------------------- state


class VersionedState(NamedTuple):
    """A strategy's state and the version to pass back to `save` (0: nothing stored yet)."""

    data: dict[str, Any]
    version: int


StateMutation = Callable[[dict[str, Any]], Mapping[str, Any]]


@runtime_checkable
class StateManager(Protocol):
    """A strategy's JSON state with optimistic concurrency.

    Values may be JSON types plus `Decimal` and timezone-aware `datetime`, which come back
    as the same types. A stale `save` raises `core.errors.ConcurrencyConflictError`.
    """

    def load(self, strategy_name: str) -> VersionedState: ...

    def save(self, strategy_name: str, data: Mapping[str, Any], expected_version: int) -> int:
        """Store `data` if the stored version is `expected_version`; return the new version."""
        ...

    def update(self, strategy_name: str, mutate: StateMutation, retries: int = 5) -> VersionedState:
        """Load, apply `mutate` to a copy, save; on a conflict re-read and retry."""
        ...

    def delete(self, strategy_name: str) -> None: ...


# ---------------------------------------------------------------- audit


@runtime_checkable
class EventSink(Protocol):
    """Where strategies record what they decided and why (append-only)."""

    def record(
        self,
        kind: str,
        entity_type: str,
        entity_id: object | None = None,
        strategy_name: str | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> None: ...

    def recent(self, limit: int = 20, strategy_name: str | None = None) -> list[AuditEvent]:
        """The newest events first."""
        ...


class VenueClients(Mapping[str, ExchangeClient]):
    """The clients of the venues one strategy trades on, by venue name (read-only: a
    strategy cannot swap a venue out from under another one)."""

    def __init__(self, strategy_name: str, clients: Mapping[str, ExchangeClient]) -> None:
        self._strategy = strategy_name
        self._clients = dict(clients)

    def __getitem__(self, venue: str) -> ExchangeClient:
        return self._clients[venue]

    def __iter__(self) -> Iterator[str]:
        return iter(self._clients)

    def __len__(self) -> int:
        return len(self._clients)

    def client(self, venue: str) -> ExchangeClient:
        """The client for `venue`; `ComponentMissingError` lists the configured ones."""
        try:
            return self._clients[venue]
        except KeyError:
            known = ", ".join(sorted(self._clients)) or "none"
            raise ComponentMissingError(
                f"strategy {self._strategy}: no exchange client for venue {venue!r} "
                f"(configured venues: {known})"
            ) from None


class StrategyAudit:
    """One strategy's audit trail: what it decided and did, about itself or a position.

    Built once per strategy instance and handed to every helper that records something, so
    no helper passes another a callback to write events with.
    """

    def __init__(self, sink: EventSink, strategy_name: str) -> None:
        self._sink = sink
        self._strategy = strategy_name

    def strategy(self, kind: str, payload: Mapping[str, Any] | None = None) -> None:
        """An event about the strategy itself (`entity_type` "strategy")."""
        self._sink.record(kind, "strategy", self._strategy, self._strategy, payload)

    def position(
        self, kind: str, position_id: uuid.UUID, payload: Mapping[str, Any] | None = None
    ) -> None:
        """An event about one position (`entity_type` "position", the position id)."""
        self._sink.record(kind, "position", position_id, self._strategy, payload)

    def recent(self, limit: int = 20) -> list[AuditEvent]:
        """This strategy's newest events first."""
        return self._sink.recent(limit, self._strategy)

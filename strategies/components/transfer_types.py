"""The fund-transfer interface: records, requests, outcomes, errors, and the protocols
between the transfer manager and its callers and ports.

Strategies, tasks and the CLI depend on `TransferManager`; the implementation
(`FundTransferManager`, in `implementations/funding_arbitrage/operations/`) depends on
`TransferStore`, `VenueDirectory` and `StepDispatcher`. Plain Python (no database, no
Celery): the PostgreSQL store (`transfer_store.py`) and the Celery dispatcher
(`tasks/transfer_dispatch.py`) are adapters the runtime injects.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from core.enums import FundsLocation, MovementState, TransferStatus
from core.errors import PerpbotError
from exchanges.base import Capability, MovementReceipt

# ---------------------------------------------------------------- errors


class TransferError(PerpbotError):
    """Base class for fund-transfer errors."""


class TransferRefusedError(TransferError):
    """A transfer request is invalid or not allowed; nothing was created or moved."""


class TransfersUnavailableError(TransferRefusedError):
    """This deployment cannot move money at all (live mode: no live wallet or bridge
    adapters exist); a request is refused and nothing is stored."""


class DestinationNotAllowedError(TransferRefusedError):
    """An address is not on the configured allowlist for its chain."""


class RouteCapExceededError(TransferRefusedError):
    """The route's rolling cap would be exceeded; the message names the cap, what the route
    has used and the window."""


class TransferNotFoundError(TransferError, LookupError):
    """No transfer has this id."""


class IllegalTransitionError(TransferError):
    """A status change that the transition table does not allow."""


class TransientTransferError(TransferError):
    """A step could not finish for a reason that may pass (venue busy, bridge down, outcome
    still unknown): the step task retries it with backoff, then gives up."""


# ---------------------------------------------------------------- records


class TransferStep(StrEnum):
    WITHDRAW = "withdraw"
    BRIDGE = "bridge"
    DEPOSIT = "deposit"


def route_label(
    from_venue: str, from_account: str, to_venue: str, to_account: str, asset: str
) -> str:
    """One route: from a venue account to a venue account, in one asset."""
    return f"{from_venue}/{from_account}->{to_venue}/{to_account}:{asset}"


@dataclass(frozen=True, slots=True)
class RouteCap:
    """At most `limit` of the asset is requested on one route per rolling `window`."""

    limit: Decimal
    window: timedelta


@dataclass(frozen=True, slots=True)
class TransferRecord:
    """A fund transfer as stored. Amounts are Decimal in the transfer's asset."""

    id: uuid.UUID
    strategy_name: str | None
    from_venue: str
    from_account: str
    to_venue: str
    to_account: str
    asset: str
    amount: Decimal  # debited from the source venue
    fee: Decimal  # withdrawal fee + bridge fee, as they became final
    withdrawal_fee: Decimal
    bridge_fee: Decimal
    received: Decimal | None  # credited at the destination
    status: TransferStatus
    funds_location: FundsLocation  # last confirmed location of the money
    funds_chain: str | None  # the chain, when the money is in a wallet or in flight
    reason: str | None
    from_chain: str
    to_chain: str
    bridge_protocol: str | None
    destination_address: str | None  # the destination venue's deposit address
    withdrawal_ref: str | None  # idempotency keys, written before each side effect
    bridge_ref: str | None
    deposit_ref: str | None
    attempts: int  # side-effect sends over the transfer's life
    unconfirmed_sends: int  # sends of the current key whose outcome is not known yet
    # What the venue / bridge / chain last reported for the current step's key, while the
    # step is in flight: PENDING, or CONFIRMED (a deposit on chain, not credited yet).
    external_state: MovementState | None
    paused_status: TransferStatus | None  # where FAILED / NEEDS_RECONCILE stopped
    dedupe_key: str | None
    last_error: str | None
    operator_note: str | None
    next_check_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int

    @property
    def needs_bridge(self) -> bool:
        return self.from_chain != self.to_chain

    @property
    def route(self) -> str:
        return route_label(
            self.from_venue, self.from_account, self.to_venue, self.to_account, self.asset
        )

    @property
    def net_amount(self) -> Decimal:
        """What is left to move after the fees so far."""
        return self.amount - self.fee

    def to_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "from": f"{self.from_venue}/{self.from_account}",
            "to": f"{self.to_venue}/{self.to_account}",
            "asset": self.asset,
            "amount": str(self.amount),
            "fee": str(self.fee),
            "received": None if self.received is None else str(self.received),
            "status": self.status.value,
            "funds_location": self.funds_location.value,
            "funds_chain": self.funds_chain,
            "last_error": self.last_error,
        }


@dataclass(frozen=True, slots=True)
class NewTransfer:
    """A validated request, ready to be stored in status PENDING."""

    from_venue: str
    from_account: str
    to_venue: str
    to_account: str
    asset: str
    amount: Decimal
    from_chain: str
    to_chain: str
    destination_address: str
    reason: str | None
    strategy_name: str | None
    dedupe_key: str
    # The key this need had before operator and strategy keys got their own namespaces:
    # a transfer stored under it and still in flight is this need's transfer (same
    # strategy_name). Read only; nothing is stored under it any more.
    legacy_dedupe_key: str
    next_check_at: datetime

    @property
    def route(self) -> str:
        return route_label(
            self.from_venue, self.from_account, self.to_venue, self.to_account, self.asset
        )


@dataclass(frozen=True, slots=True)
class TransferRequestResult:
    record: TransferRecord
    created: bool  # False: an in-flight transfer with the same dedupe key was returned


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What one step run did and what should happen next."""

    transfer_id: uuid.UUID
    status: TransferStatus
    action: str  # "next" (dispatched next_step), "wait" (polled later), "stop", "noop"
    next_step: TransferStep | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "transfer_id": str(self.transfer_id),
            "status": self.status.value,
            "action": self.action,
            "next_step": self.next_step.value if self.next_step else None,
            "detail": self.detail,
        }


# ---------------------------------------------------------------- ports


class TransferUnit(Protocol):
    """One transaction holding the transfer's row lock (`SELECT ... FOR UPDATE`)."""

    @property
    def record(self) -> TransferRecord: ...

    def save(self, updated: TransferRecord, event: str | None, **detail: Any) -> TransferRecord:
        """Write the fields that differ from `record`, guarded by `WHERE status = <record's>
        AND version = <record's>`, plus the audit event `event` (None: none); returns the
        stored record. Times come from the store's clock."""
        ...

    def check_route_cap(self, cap: RouteCap) -> None:
        """Lock the record's route (as `create` does) and raise `RouteCapExceededError` if
        what the route's other transfers count plus this one's amount exceeds `cap`."""
        ...


@runtime_checkable
class TransferStore(Protocol):
    def create(self, new: NewTransfer, cap: RouteCap) -> tuple[TransferRecord, bool]:
        """Insert, or return the in-flight transfer with the same dedupe key (created=False).

        Requests of one route are serialised (a lock held until the insert commits): a new
        transfer is stored only if the route's counted transfers of the last `cap.window`
        plus its amount stay within `cap.limit`; otherwise `RouteCapExceededError` and
        nothing is stored. Counted: every transfer of the route except cancelled ones and
        failed ones whose money stayed at the source, while it is not settled and for
        `cap.window` after its last change."""
        ...

    def locked(self, transfer_id: uuid.UUID) -> AbstractContextManager[TransferUnit]:
        """A transaction with the row locked; commits when the block ends. Raises
        `TransferNotFoundError` for an unknown id."""
        ...

    def get(self, transfer_id: uuid.UUID) -> TransferRecord | None: ...

    def list(
        self, statuses: Sequence[TransferStatus] | None = None, limit: int = 50
    ) -> builtins.list[TransferRecord]: ...

    def claim_due(
        self, now: datetime, until: datetime, limit: int
    ) -> builtins.list[TransferRecord]:
        """Active transfers whose `next_check_at` <= now, with `next_check_at` pushed to
        `until` in the same statement (so concurrent sweeps do not pick a row twice)."""
        ...


class TransferVenue(Protocol):
    """The part of a venue (`exchanges.base.ExchangeClient`) that transfers use."""

    name: str

    def withdraw(
        self, asset: str, amount: Decimal, address: str, chain: str, idempotency_key: str
    ) -> MovementReceipt: ...

    def get_withdrawal(self, idempotency_key: str) -> MovementReceipt | None: ...

    def deposit_address(self, asset: str, chain: str) -> str: ...

    def get_deposit(self, reference: str) -> MovementReceipt | None: ...


class VenueDirectory(Protocol):
    def venue(self, name: str, account: str) -> TransferVenue: ...

    def capabilities(self, name: str) -> frozenset[Capability]:
        """What the adapter behind venue `name` declares (the same for all its accounts)."""
        ...


class StepDispatcher(Protocol):
    """Enqueues a step (a Celery task in production). Called only after a commit."""

    def dispatch(self, step: TransferStep, transfer_id: uuid.UUID) -> None: ...


# ---------------------------------------------------------------- the manager


class TransferManager(Protocol):
    """What strategies, tasks and the CLI call on the fund-transfer component.

    Errors: `TransferRefusedError` (bad or disallowed request, or `TransfersUnavailableError`
    where no transfer can run), `TransferNotFoundError`, `TransientTransferError` (a step to
    retry later), `ConfigError` (a venue or chain the transfers config does not know).
    """

    def request_transfer(
        self,
        from_venue: str,
        to_venue: str,
        amount: Decimal,
        *,
        asset: str | None = None,
        from_account: str = "main",
        to_account: str = "main",
        reason: str | None = None,
        strategy_name: str | None = None,
        dedupe_key: str | None = None,
    ) -> TransferRequestResult:
        """Store a transfer (PENDING) and start it; idempotent per dedupe key (an in-flight
        transfer with the same key is returned with `created=False`)."""
        ...

    def advance(self, step: TransferStep, transfer_id: uuid.UUID) -> StepOutcome:
        """Run `step` if the transfer's status calls for it; otherwise do nothing."""
        ...

    def give_up(self, step: TransferStep, transfer_id: uuid.UUID, reason: str) -> StepOutcome:
        """The step's retries are exhausted: stop where the money rests, or reconcile."""
        ...

    def sweep(self) -> builtins.list[tuple[uuid.UUID, TransferStep]]:
        """Enqueue the step of every active transfer that is due (waiting or stuck)."""
        ...

    def retry(self, transfer_id: uuid.UUID, note: str | None = None) -> TransferRecord:
        """Resume a FAILED or NEEDS_RECONCILE transfer (operator)."""
        ...

    def resolve(
        self,
        transfer_id: uuid.UUID,
        outcome: str,
        note: str,
        location: FundsLocation | None = None,
        chain: str | None = None,
        received: Decimal | None = None,
    ) -> TransferRecord:
        """Record how an operator settled a FAILED / NEEDS_RECONCILE transfer by hand."""
        ...

    def cancel(self, transfer_id: uuid.UUID, note: str | None = None) -> TransferRecord:
        """Cancel a transfer that has not started (PENDING)."""
        ...

    def get(self, transfer_id: uuid.UUID) -> TransferRecord:
        """The transfer, or `TransferNotFoundError`."""
        ...

    def list(
        self, statuses: Sequence[TransferStatus] | None = None, limit: int = 50
    ) -> builtins.list[TransferRecord]:
        """The most recent transfers (newest first), optionally of some statuses only."""
        ...

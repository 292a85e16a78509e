"""Fund-transfer records, errors and the ports the transfer manager depends on.

Plain Python (no database, no Celery): the PostgreSQL store and the Celery dispatcher are
adapters injected by the composition root (`strategies/components/transfers.py`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from core.enums import FundsLocation, TransferStatus
from core.errors import PerpbotError
from exchanges.base import TransferReceipt

# ---------------------------------------------------------------- errors


class TransferError(PerpbotError):
    """Base class for fund-transfer errors."""


class TransferRefusedError(TransferError):
    """A transfer request is invalid or not allowed; nothing was created or moved."""


class DestinationNotAllowedError(TransferRefusedError):
    """An address is not on the configured allowlist for its chain."""


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


class ExternalState(StrEnum):
    """What the venue / bridge / chain last reported for the current step's key."""

    PENDING = "pending"
    CONFIRMED = "confirmed"  # deposit: on-chain transfer confirmed, venue credit not yet seen


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
    external_state: ExternalState | None
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
    dedupe_key: str | None
    next_check_at: datetime


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

    def save(self, updated: TransferRecord, event: str, **detail: Any) -> TransferRecord:
        """Write the fields that differ from `record`, guarded by `WHERE status = <record's>
        AND version = <record's>`, plus an audit event; returns the stored record."""
        ...


@runtime_checkable
class TransferStore(Protocol):
    def create(self, new: NewTransfer) -> tuple[TransferRecord, bool]:
        """Insert, or return the in-flight transfer with the same dedupe key (created=False)."""
        ...

    def locked(self, transfer_id: uuid.UUID) -> AbstractContextManager[TransferUnit]:
        """A transaction with the row locked; commits when the block ends. Raises
        `TransferNotFoundError` for an unknown id."""
        ...

    def get(self, transfer_id: uuid.UUID) -> TransferRecord | None: ...

    def list(
        self, statuses: Sequence[TransferStatus] | None = None, limit: int = 50
    ) -> list[TransferRecord]: ...

    def claim_due(self, now: datetime, until: datetime, limit: int) -> list[TransferRecord]:
        """Active transfers whose `next_check_at` <= now, with `next_check_at` pushed to
        `until` in the same statement (so concurrent sweeps do not pick a row twice)."""
        ...


class TransferVenue(Protocol):
    """The part of a venue (`exchanges.base.ExchangeClient`) that transfers use."""

    name: str

    def withdraw(
        self, asset: str, amount: Decimal, address: str, chain: str, idempotency_key: str
    ) -> TransferReceipt: ...

    def get_withdrawal(self, idempotency_key: str) -> TransferReceipt | None: ...

    def deposit_address(self, asset: str, chain: str) -> str: ...

    def get_deposit(self, reference: str) -> TransferReceipt | None: ...


class VenueDirectory(Protocol):
    def venue(self, name: str, account: str) -> TransferVenue: ...


class StepDispatcher(Protocol):
    """Enqueues a step (a Celery task in production). Called only after a commit."""

    def dispatch(self, step: TransferStep, transfer_id: uuid.UUID) -> None: ...

"""What every transfer step shares: the shape of a recorded result, the context the steps
run in, and the `StepSpec` base class the three steps fill in.

What the outside world reports for a step's key is a `MovementReceipt` (`exchanges.base`),
one shape for the venue, the bridge and the chain."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from core.clock import Clock
from core.enums import FundsLocation, TransferStatus
from exchanges.base import MovementReceipt
from exchanges.bridges.base import WalletNetwork
from strategies.components.transfer_states import transition
from strategies.components.transfer_types import TransferRecord, TransferStep, VenueDirectory
from strategies.implementations.funding_arbitrage.operations.bridge_manager import BridgeManager
from strategies.implementations.funding_arbitrage.operations.transfer_config import (
    TransferRoutingConfig,
)

S = TransferStatus
L = FundsLocation


@dataclass(frozen=True, slots=True)
class Recorded:
    """The record after a step's result, and what to do next."""

    record: TransferRecord
    event: str | None  # None: nothing worth an audit event (a poll found no change)
    # next: dispatch next_step; wait: polled at next_check_at; stop: FAILED / COMPLETED /
    # NEEDS_RECONCILE; reconcile: the driver turns it into NEEDS_RECONCILE with `detail`.
    action: Literal["next", "wait", "stop", "reconcile"]
    next_step: TransferStep | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class StepContext:
    venues: VenueDirectory
    network: WalletNetwork
    bridges: BridgeManager
    routing: TransferRoutingConfig
    clock: Clock

    @property
    def poll(self) -> timedelta:
        return timedelta(seconds=self.routing.policy.poll_seconds)

    @property
    def stuck(self) -> timedelta:
        return timedelta(seconds=self.routing.policy.stuck_seconds)

    def next_poll(self, now: datetime, eta: datetime | None) -> datetime:
        return eta if eta is not None and eta > now else now + self.poll


def intent(
    record: TransferRecord, to: TransferStatus, now: datetime, stuck: timedelta, **kw: Any
) -> TransferRecord:
    return transition(
        record,
        to,
        unconfirmed_sends=1,
        attempts=record.attempts + 1,
        external_state=None,
        last_error=None,
        paused_status=None,
        next_check_at=now + stuck,
        **kw,
    )


def waiting(
    record: TransferRecord,
    seen: MovementReceipt,
    location: FundsLocation,
    chain: str | None,
    ctx: StepContext,
    now: datetime,
) -> Recorded:
    """Still in flight (`seen` is PENDING or CONFIRMED): poll again, at its ETA if known."""
    external = seen.state
    updated = replace(
        record,
        external_state=external,
        unconfirmed_sends=0,
        funds_location=location,
        funds_chain=chain,
        next_check_at=ctx.next_poll(now, seen.eta),
    )
    news = record.external_state is not external or record.unconfirmed_sends != 0
    event = f"transfer.{record.status.value}.{external.value}" if news else None
    return Recorded(
        updated, event, "wait", detail=f"{external.value}; next check {updated.next_check_at}"
    )


def failed(
    record: TransferRecord, reason: str, location: FundsLocation, chain: str | None
) -> TransferRecord:
    return transition(
        record,
        S.FAILED,
        paused_status=record.status,
        funds_location=location,
        funds_chain=chain,
        last_error=reason,
        unconfirmed_sends=0,
        external_state=None,
        next_check_at=None,
    )


class StepSpec(ABC):
    """One step: subclasses fill in the venue / bridge / chain specifics."""

    step: TransferStep
    entry: tuple[TransferStatus, ...]  # statuses from which an attempt starts
    working: TransferStatus  # the status while an attempt is out

    def __init__(self, ctx: StepContext) -> None:
        self.ctx = ctx

    def prepare(self, record: TransferRecord) -> Any:
        """Work done before the row lock (quotes, addresses); may refuse or be transient."""
        return None

    @abstractmethod
    def begin(self, record: TransferRecord, prepared: Any, now: datetime) -> TransferRecord:
        """The intent: the working status with a new key for this step's next attempt."""

    @abstractmethod
    def key(self, record: TransferRecord) -> str | None:
        """The key of the current attempt (None before the first)."""

    @abstractmethod
    def lookup(self, record: TransferRecord) -> MovementReceipt | None:
        """What the other side reports for the key; None if it does not know it."""

    @abstractmethod
    def send(self, record: TransferRecord) -> MovementReceipt:
        """Carry out the side effect with the key (to allowlisted addresses only)."""

    def resend_allowed(self, record: TransferRecord) -> bool:
        """May a key whose outcome is unknown, and that the other side does not know, be
        sent again under the same key? Only where that side guarantees one transfer per key."""
        return True

    @abstractmethod
    def resting(self, record: TransferRecord) -> tuple[FundsLocation, str | None]:
        """Where the money is while this step has sent nothing."""

    @abstractmethod
    def record(self, record: TransferRecord, seen: MovementReceipt, now: datetime) -> Recorded:
        """The record after `seen`, and what to do next."""

    def on_rejected(self, record: TransferRecord, reason: str) -> Recorded:
        location, chain = self.resting(record)
        return Recorded(
            failed(record, reason, location, chain), "transfer.failed", "stop", detail=reason
        )

    def check_amount(
        self, record: TransferRecord, seen: MovementReceipt, expected: Decimal
    ) -> str | None:
        if seen.amount != expected:
            return (
                f"{self.step.value} {self.key(record)}: reported amount {seen.amount} differs "
                f"from the {expected} sent; check it by hand"
            )
        return None

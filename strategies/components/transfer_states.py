"""The fund-transfer state machine: statuses, the transition table, step keys.

    PENDING -> WITHDRAWING -> WITHDRAWN -> [BRIDGING -> BRIDGED] -> DEPOSITING -> COMPLETED
                                   (the bridge leg only when the venues are on different chains)

FAILED: the automation stopped and `funds_location` says where the money is (an operator
retries or resolves it). NEEDS_RECONCILE: a side effect's outcome is unknown and could not
be settled by looking its key up. CANCELLED and COMPLETED are final.

Part of the transfer interface: the store checks every status change against this table
before it writes, whichever implementation asked for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from core.enums import TransferStatus
from strategies.components.transfer_types import (
    IllegalTransitionError,
    TransferRecord,
    TransferStep,
)

S = TransferStatus

# Which status may follow which. Everything not listed is an error.
TRANSITIONS: Mapping[TransferStatus, frozenset[TransferStatus]] = MappingProxyType(
    {
        S.PENDING: frozenset({S.WITHDRAWING, S.FAILED, S.CANCELLED}),
        S.WITHDRAWING: frozenset({S.WITHDRAWN, S.FAILED, S.NEEDS_RECONCILE}),
        S.WITHDRAWN: frozenset({S.BRIDGING, S.DEPOSITING, S.FAILED}),
        # BRIDGING -> WITHDRAWN: the bridge failed and refunded the wallet; try another route.
        S.BRIDGING: frozenset({S.BRIDGED, S.WITHDRAWN, S.FAILED, S.NEEDS_RECONCILE}),
        S.BRIDGED: frozenset({S.DEPOSITING, S.FAILED}),
        S.DEPOSITING: frozenset({S.COMPLETED, S.FAILED, S.NEEDS_RECONCILE}),
        # Operator: retry from where the money rests, or record how it was settled by hand.
        S.FAILED: frozenset({S.PENDING, S.WITHDRAWN, S.BRIDGED, S.COMPLETED, S.CANCELLED}),
        # Operator: retry the step (look the key up, then send under the same key) or resolve.
        S.NEEDS_RECONCILE: frozenset(
            {S.WITHDRAWING, S.BRIDGING, S.DEPOSITING, S.COMPLETED, S.FAILED, S.CANCELLED}
        ),
        S.COMPLETED: frozenset(),
        S.CANCELLED: frozenset(),
    }
)

# Transfers the automation still moves (the sweeper's working set).
ACTIVE_STATUSES: tuple[TransferStatus, ...] = (
    S.PENDING,
    S.WITHDRAWING,
    S.WITHDRAWN,
    S.BRIDGING,
    S.BRIDGED,
    S.DEPOSITING,
)
# A dedupe key is free again once its transfer reached one of these.
SETTLED_STATUSES: tuple[TransferStatus, ...] = (S.COMPLETED, S.FAILED, S.CANCELLED)


def check_transition(record: TransferRecord, to: TransferStatus) -> None:
    if to not in TRANSITIONS[record.status]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[record.status])) or "none"
        raise IllegalTransitionError(
            f"transfer {record.id}: cannot go from {record.status.value} to {to.value} "
            f"(allowed from {record.status.value}: {allowed})"
        )


def transition(record: TransferRecord, to: TransferStatus, **changes: Any) -> TransferRecord:
    """`record` moved to `to` with `changes`; raises `IllegalTransitionError` if not allowed."""
    check_transition(record, to)
    return replace(record, status=to, **changes)


def step_for(record: TransferRecord) -> TransferStep | None:
    """The step that moves this transfer on from its status (None: nothing to do)."""
    status = record.status
    if status in (S.PENDING, S.WITHDRAWING):
        return TransferStep.WITHDRAW
    if status is S.WITHDRAWN:
        return TransferStep.BRIDGE if record.needs_bridge else TransferStep.DEPOSIT
    if status is S.BRIDGING:
        return TransferStep.BRIDGE
    if status in (S.BRIDGED, S.DEPOSITING):
        return TransferStep.DEPOSIT
    return None


def step_key(transfer_id: uuid.UUID, step: TransferStep, previous: str | None) -> str:
    """The idempotency key of a step's next attempt: `<id>:<step>:<n>`.

    A new attempt (n+1) is only made after the previous one is known to have failed with the
    money back (refund) or the operator retried; every resend of one attempt reuses its key.
    """
    prefix = f"{transfer_id}:{step.value}:"
    if previous is None:
        return f"{prefix}1"
    if not previous.startswith(prefix) or not previous[len(prefix) :].isdigit():
        raise ValueError(f"{previous!r} is not a {step.value} key of transfer {transfer_id}")
    return f"{prefix}{int(previous[len(prefix) :]) + 1}"


def key_attempt(key: str) -> int:
    """The attempt number n of a key `<id>:<step>:<n>`."""
    return int(key.rsplit(":", 1)[1])

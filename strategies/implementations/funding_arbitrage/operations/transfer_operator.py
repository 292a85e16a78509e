"""What an operator's retry / resolve / cancel does to a transfer record (pure functions;
`FundTransferManager` applies them under the row lock)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.enums import FundsLocation, TransferStatus
from strategies.components.transfer_states import transition
from strategies.components.transfer_types import TransferRecord, TransferRefusedError

S = TransferStatus
RESOLVE_OUTCOMES = ("completed", "cancelled", "failed")


def retry_target(record: TransferRecord) -> TransferStatus:
    """Where a retry resumes: a NEEDS_RECONCILE transfer at its step; a FAILED one at the
    status that matches where its money rests."""
    if record.status is S.NEEDS_RECONCILE:
        if record.paused_status in (S.WITHDRAWING, S.BRIDGING, S.DEPOSITING):
            return record.paused_status
        raise TransferRefusedError(
            f"transfer {record.id} needs reconciling but records no step to resume; resolve it"
        )
    if record.status is S.FAILED:
        location, chain = record.funds_location, record.funds_chain
        if location is FundsLocation.SOURCE:
            return S.PENDING
        if location is FundsLocation.WALLET and chain == record.from_chain:
            return S.WITHDRAWN
        if location is FundsLocation.WALLET and chain == record.to_chain:
            return S.BRIDGED
        where = f"{location.value}{' on ' + chain if chain else ''}"
        raise TransferRefusedError(
            f"transfer {record.id} failed with the money at {where}: no step can move it from "
            "there; resolve it"
        )
    raise TransferRefusedError(
        f"transfer {record.id} is {record.status.value}: only failed or needs_reconcile "
        "transfers can be retried"
    )


def retried(record: TransferRecord, note: str | None, check_at: datetime) -> TransferRecord:
    """The record resumed by an operator's retry. From NEEDS_RECONCILE the in-doubt count is
    cleared: the operator has checked that the key was not carried out."""
    target = retry_target(record)
    updated = transition(
        record,
        target,
        paused_status=None,
        unconfirmed_sends=0,
        external_state=None,
        operator_note=note or record.operator_note,
        next_check_at=check_at,
    )
    if target is S.PENDING:
        updated = replace(updated, funds_location=FundsLocation.SOURCE, funds_chain=None)
    return updated


def resolved(
    record: TransferRecord,
    outcome: str,
    note: str,
    now: datetime,
    location: FundsLocation | None = None,
    chain: str | None = None,
    received: Decimal | None = None,
) -> TransferRecord:
    """The record after an operator settled it by hand."""
    if outcome not in RESOLVE_OUTCOMES:
        raise TransferRefusedError(
            f"outcome must be one of {', '.join(RESOLVE_OUTCOMES)}, got {outcome!r}"
        )
    if not note.strip():
        raise TransferRefusedError("resolve needs a note saying what was checked or done")
    if record.status not in (S.FAILED, S.NEEDS_RECONCILE):
        raise TransferRefusedError(
            f"transfer {record.id} is {record.status.value}: only failed or needs_reconcile "
            "transfers are resolved by hand"
        )
    common: dict[str, Any] = {"operator_note": note, "next_check_at": None, "unconfirmed_sends": 0}
    if outcome == "completed":
        return transition(
            record,
            S.COMPLETED,
            funds_location=FundsLocation.DESTINATION,
            funds_chain=None,
            received=received,
            completed_at=now,
            **common,
        )
    if outcome == "cancelled":
        return transition(
            record, S.CANCELLED, funds_location=FundsLocation.SOURCE, funds_chain=None, **common
        )
    if location is None or location is FundsLocation.UNKNOWN:
        raise TransferRefusedError("resolving as failed needs a location: where the money is")
    return transition(
        record,
        S.FAILED,
        funds_location=location,
        funds_chain=chain,
        paused_status=record.paused_status or record.status,
        **common,
    )


def cancelled(record: TransferRecord, note: str | None) -> TransferRecord:
    if record.status is not S.PENDING:
        raise TransferRefusedError(
            f"transfer {record.id} is {record.status.value}: only a pending transfer can be "
            "cancelled (money may already be moving; use retry or resolve)"
        )
    return transition(record, S.CANCELLED, operator_note=note, next_check_at=None)

"""`PostgresTransferStore`: the fund-transfer manager's `TransferStore` on `fund_transfers`.

Each `locked()` block is one transaction holding the row lock; `save` writes only the
fields that changed, guarded by `WHERE status = <expected> AND version = <expected>`, checks
the status change against the transition table, and appends the audit event in the same
transaction. Every time it writes (`created_at`, `updated_at`, the events' `occurred_at`) is
the injected clock's, so a simulated run's transfers read in simulated time.

`create` serialises the requests of one route with a transaction-scoped advisory lock on the
route (`db.locks.lock_transfer_route`), taken before it reads what the route has used and
held until the insert commits: concurrent requests cannot together exceed the route's cap.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.orm import Session

from core.clock import Clock, ensure_utc
from core.enums import FundsLocation, MovementState, TransferStatus
from db.locks import lock_transfer_route
from db.repositories.events import EventRepository, event_values
from db.repositories.transfers import TransferRepository
from strategies.components.sessions import SessionScope
from strategies.components.transfer_states import ACTIVE_STATUSES, check_transition
from strategies.components.transfer_types import (
    NewTransfer,
    RouteCap,
    RouteCapExceededError,
    TransferNotFoundError,
    TransferRecord,
    TransferRefusedError,
)

ENTITY = "fund_transfer"

# Record field -> column, where the names differ.
_COLUMN = {
    "from_venue": "from_dex",
    "to_venue": "to_dex",
    "amount": "amount_usd",
    "fee": "fee_usd",
    "withdrawal_fee": "withdrawal_fee_usd",
    "bridge_fee": "bridge_fee_usd",
    "received": "received_usd",
}
_IMMUTABLE = {"id", "created_at", "updated_at", "version"}


def to_record(row: RowMapping) -> TransferRecord:
    external, paused = row["external_state"], row["paused_status"]
    return TransferRecord(
        id=row["id"],
        strategy_name=row["strategy_name"],
        from_venue=row["from_dex"],
        from_account=row["from_account"],
        to_venue=row["to_dex"],
        to_account=row["to_account"],
        asset=row["asset"],
        amount=row["amount_usd"],
        fee=row["fee_usd"],
        withdrawal_fee=row["withdrawal_fee_usd"],
        bridge_fee=row["bridge_fee_usd"],
        received=row["received_usd"],
        status=TransferStatus(row["status"]),
        funds_location=FundsLocation(row["funds_location"]),
        funds_chain=row["funds_chain"],
        reason=row["reason"],
        from_chain=row["from_chain"] or "",
        to_chain=row["to_chain"] or "",
        bridge_protocol=row["bridge_protocol"],
        destination_address=row["destination_address"],
        withdrawal_ref=row["withdrawal_ref"],
        bridge_ref=row["bridge_ref"],
        deposit_ref=row["deposit_ref"],
        attempts=row["attempts"],
        unconfirmed_sends=row["unconfirmed_sends"],
        external_state=MovementState(external) if external else None,
        paused_status=TransferStatus(paused) if paused else None,
        dedupe_key=row["dedupe_key"],
        last_error=row["last_error"],
        operator_note=row["operator_note"],
        next_check_at=row["next_check_at"],
        completed_at=row["completed_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


def _column_value(value: Any) -> Any:
    return (
        value.value if isinstance(value, TransferStatus | FundsLocation | MovementState) else value
    )


def changed_columns(before: TransferRecord, after: TransferRecord) -> dict[str, Any]:
    changes = {}
    for name in (f.name for f in fields(TransferRecord)):
        if name in _IMMUTABLE:
            continue
        new = getattr(after, name)
        if new != getattr(before, name):
            changes[_COLUMN.get(name, name)] = _column_value(new)
    return changes


def _money(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _check_route_cap(
    session: Session,
    transfer: NewTransfer | TransferRecord,
    cap: RouteCap,
    now: datetime,
    exclude: uuid.UUID | None = None,
) -> None:
    """Refuse `transfer` if the route's counted amount plus its own exceeds the cap. The
    caller holds the route's lock (taken before anything of the route was read)."""
    since = now - cap.window
    columns = {
        "from_dex": transfer.from_venue,
        "from_account": transfer.from_account,
        "to_dex": transfer.to_venue,
        "to_account": transfer.to_account,
        "asset": transfer.asset,
    }
    used = TransferRepository(session).route_usage(columns, since, exclude)
    if used + transfer.amount > cap.limit:
        asset, hours = transfer.asset, f"{cap.window.total_seconds() / 3600:g}"
        raise RouteCapExceededError(
            f"transfer of {_money(transfer.amount)} {asset} on {transfer.route} refused: the "
            f"route's cap is {_money(cap.limit)} {asset} per rolling {hours} h "
            f"(routing.policy.route_cap_24h) and {_money(used)} {asset} is used in the {hours} h "
            f"since {since.isoformat()}; at most {_money(max(cap.limit - used, Decimal(0)))} "
            f"{asset} more now"
        )


class _LockedTransfer:
    def __init__(self, session: Session, row: RowMapping, clock: Clock) -> None:
        self._session = session
        self._record = to_record(row)
        self._clock = clock

    @property
    def record(self) -> TransferRecord:
        return self._record

    def save(self, updated: TransferRecord, event: str | None, **detail: Any) -> TransferRecord:
        before = self._record
        if updated.id != before.id:
            raise ValueError(f"save: record {updated.id} is not the locked transfer {before.id}")
        if updated.status is not before.status:
            check_transition(before, updated.status)
        values = changed_columns(before, updated)
        now = ensure_utc(self._clock.now())
        if values:
            audit = None
            if event is not None:  # written by the update's own statement
                payload = {
                    "status": updated.status.value,
                    "funds_location": updated.funds_location.value,
                    **detail,
                }
                audit = event_values(event, ENTITY, before.id, before.strategy_name, now, payload)
            row = TransferRepository(self._session).update_guarded(
                before.id, before.status.value, before.version, values, updated_at=now, event=audit
            )
            self._record = to_record(row)
        elif event is not None:
            EventRepository(self._session).append(
                event,
                ENTITY,
                before.id,
                strategy_name=before.strategy_name,
                occurred_at=now,
                status=self._record.status.value,
                funds_location=self._record.funds_location.value,
                **detail,
            )
        return self._record

    def check_route_cap(self, cap: RouteCap) -> None:
        now = ensure_utc(self._clock.now())
        lock_transfer_route(self._session, self._record.route)
        _check_route_cap(self._session, self._record, cap, now, exclude=self._record.id)


def _in_flight(session: Session, new: NewTransfer) -> TransferRecord | None:
    """The in-flight transfer of this need, under its key or its key's old form.

    Before the namespaces the operator's default key and that of a strategy named `operator`
    were the same string: such a transfer found under the operator's key but requested by
    someone else is refused rather than returned, until it settles."""
    repository = TransferRepository(session)
    row = repository.in_flight(new.dedupe_key)
    if row is not None and row["strategy_name"] != new.strategy_name:
        raise TransferRefusedError(
            f"dedupe key {new.dedupe_key!r} is held by transfer {row['id']} of strategy "
            f"{row['strategy_name']!r}, requested before operator and strategy keys had "
            "separate namespaces; request again once it has settled"
        )
    if row is None and new.legacy_dedupe_key != new.dedupe_key:
        row = repository.in_flight_legacy(new.legacy_dedupe_key, new.strategy_name)
    return None if row is None else to_record(row)


class PostgresTransferStore:
    """Implements `TransferStore`; every call is its own transaction from `scope`."""

    def __init__(self, scope: SessionScope, clock: Clock) -> None:
        self._scope = scope
        self._clock = clock

    def create(self, new: NewTransfer, cap: RouteCap) -> tuple[TransferRecord, bool]:
        now = ensure_utc(self._clock.now())
        values = {
            "id": uuid.uuid4(),
            "strategy_name": new.strategy_name,
            "from_dex": new.from_venue,
            "from_account": new.from_account,
            "to_dex": new.to_venue,
            "to_account": new.to_account,
            "asset": new.asset,
            "amount_usd": new.amount,
            "status": TransferStatus.PENDING.value,
            "funds_location": FundsLocation.SOURCE.value,
            "reason": new.reason,
            "from_chain": new.from_chain,
            "to_chain": new.to_chain,
            "destination_address": new.destination_address,
            "dedupe_key": new.dedupe_key,
            "next_check_at": new.next_check_at,
            "created_at": now,
            "updated_at": now,
        }
        with self._scope() as session:
            lock_transfer_route(session, new.route)  # first: what is read below is current
            existing = _in_flight(session, new)
            if existing is not None:
                return existing, False
            _check_route_cap(session, new, cap, now)
            row, created = TransferRepository(session).insert(values)
            record = to_record(row)
            if created:
                EventRepository(session).append(
                    "transfer.requested",
                    ENTITY,
                    record.id,
                    strategy_name=record.strategy_name,
                    occurred_at=now,
                    status=record.status.value,
                    amount=new.amount,
                    route=f"{new.from_venue}/{new.from_account}->{new.to_venue}/{new.to_account}",
                    reason=new.reason,
                )
        return record, created

    @contextmanager
    def locked(self, transfer_id: uuid.UUID) -> Iterator[_LockedTransfer]:
        with self._scope() as session:
            row = TransferRepository(session).lock(transfer_id)
            if row is None:
                raise TransferNotFoundError(f"no fund transfer with id {transfer_id}")
            yield _LockedTransfer(session, row, self._clock)

    def get(self, transfer_id: uuid.UUID) -> TransferRecord | None:
        with self._scope() as session:
            row = TransferRepository(session).get(transfer_id)
            return None if row is None else to_record(row)

    def list(
        self, statuses: Sequence[TransferStatus] | None = None, limit: int = 50
    ) -> builtins.list[TransferRecord]:
        with self._scope() as session:
            values = [s.value for s in statuses] if statuses else None
            return [to_record(r) for r in TransferRepository(session).list(values, limit)]

    def claim_due(
        self, now: datetime, until: datetime, limit: int
    ) -> builtins.list[TransferRecord]:
        with self._scope() as session:
            rows = TransferRepository(session).claim_due(
                [s.value for s in ACTIVE_STATUSES], now, until, limit
            )
            return [to_record(r) for r in rows]

"""`fund_transfers` rows: insert with a dedupe key, lock, guarded update, due sweep.

Rows are returned as plain mappings (column name -> value) rather than ORM entities: a step
locks, updates and re-reads one row several times in a transaction and must always see
exactly what the database holds. The caller gives every time (its clock's); nothing here
asks the database for `now()`.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.errors import ConcurrencyConflictError
from db.models.transfers import FundTransfer

_TABLE = FundTransfer.__table__
# Statuses after which a dedupe key is free again (must match the partial unique index).
SETTLED = ("completed", "failed", "cancelled")
_IN_FLIGHT = text("status NOT IN ('completed', 'failed', 'cancelled')")


class TransferRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def insert(self, values: Mapping[str, Any]) -> tuple[RowMapping, bool]:
        """Insert a transfer, or return the in-flight one with the same `dedupe_key`."""
        for _ in range(5):
            row = (
                self._session.execute(
                    insert(_TABLE)
                    .values(**values)
                    .on_conflict_do_nothing(index_elements=["dedupe_key"], index_where=_IN_FLIGHT)
                    .returning(*_TABLE.c)
                )
                .mappings()
                .one_or_none()
            )
            if row is not None:
                return row, True
            existing = (
                self._session.execute(
                    select(_TABLE).where(
                        _TABLE.c.dedupe_key == values["dedupe_key"], _TABLE.c.status.notin_(SETTLED)
                    )
                )
                .mappings()
                .one_or_none()
            )
            if existing is not None:
                return existing, False
            # The conflicting transfer settled between the two statements: insert again.
        raise ConcurrencyConflictError(
            f"fund transfer with dedupe key {values['dedupe_key']!r} keeps changing; retry"
        )

    def get(self, transfer_id: uuid.UUID) -> RowMapping | None:
        return (
            self._session.execute(select(_TABLE).where(_TABLE.c.id == transfer_id))
            .mappings()
            .one_or_none()
        )

    def lock(self, transfer_id: uuid.UUID) -> RowMapping | None:
        """`SELECT ... FOR UPDATE`: the row stays locked until the transaction ends."""
        return (
            self._session.execute(
                select(_TABLE).where(_TABLE.c.id == transfer_id).with_for_update()
            )
            .mappings()
            .one_or_none()
        )

    def update_guarded(
        self,
        transfer_id: uuid.UUID,
        expected_status: str,
        expected_version: int,
        values: Mapping[str, Any],
        *,
        updated_at: datetime,
    ) -> RowMapping:
        """`UPDATE ... WHERE status = expected AND version = expected`; a miss raises."""
        row = (
            self._session.execute(
                update(_TABLE)
                .where(
                    _TABLE.c.id == transfer_id,
                    _TABLE.c.status == expected_status,
                    _TABLE.c.version == expected_version,
                )
                .values(**values, version=expected_version + 1, updated_at=updated_at)
                .returning(*_TABLE.c)
            )
            .mappings()
            .one_or_none()
        )
        if row is None:
            current = self.get(transfer_id)
            found = "no row" if current is None else f"{current['status']} v{current['version']}"
            raise ConcurrencyConflictError(
                f"fund transfer {transfer_id}: expected {expected_status} v{expected_version}, "
                f"found {found}; re-read and retry"
            )
        return row

    def list(
        self, statuses: Sequence[str] | None = None, limit: int = 50
    ) -> builtins.list[RowMapping]:
        query = select(_TABLE).order_by(_TABLE.c.created_at.desc(), _TABLE.c.id).limit(limit)
        if statuses:
            query = query.where(_TABLE.c.status.in_(list(statuses)))
        return list(self._session.execute(query).mappings())

    def claim_due(
        self, statuses: Sequence[str], now: datetime, until: datetime, limit: int
    ) -> builtins.list[RowMapping]:
        """Rows in `statuses` with `next_check_at <= now`, moved to `until` (and updated at
        `now`) in one statement.

        `FOR UPDATE SKIP LOCKED`: a row a step holds right now is left for the next sweep.
        """
        due = (
            select(_TABLE.c.id)
            .where(_TABLE.c.status.in_(list(statuses)), _TABLE.c.next_check_at <= now)
            .order_by(_TABLE.c.next_check_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        return list(
            self._session.execute(
                update(_TABLE)
                .where(_TABLE.c.id.in_(due))
                .values(next_check_at=until, updated_at=now)
                .returning(*_TABLE.c)
            ).mappings()
        )

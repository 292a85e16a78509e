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
from decimal import Decimal
from typing import Any

from sqlalchemy import Executable, RowMapping, and_, func, literal, not_, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.errors import ConcurrencyConflictError
from db.models.events import Event
from db.models.transfers import FundTransfer

# The `Table` itself (what `insert`/`update` take); `__table__` is typed as any FromClause.
_TABLE = FundTransfer.metadata.tables[FundTransfer.__tablename__]
_EVENTS = Event.metadata.tables[Event.__tablename__]
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
            existing = self.in_flight(values["dedupe_key"])
            if existing is not None:
                return existing, False
            # The conflicting transfer settled between the two statements: insert again.
        raise ConcurrencyConflictError(
            f"fund transfer with dedupe key {values['dedupe_key']!r} keeps changing; retry"
        )

    def in_flight(self, dedupe_key: str) -> RowMapping | None:
        """The unsettled transfer with `dedupe_key` (the partial unique index allows one)."""
        query = select(_TABLE).where(
            _TABLE.c.dedupe_key == dedupe_key, _TABLE.c.status.notin_(SETTLED)
        )
        return self._session.execute(query).mappings().one_or_none()

    def in_flight_legacy(self, dedupe_key: str, strategy_name: str | None) -> RowMapping | None:
        """The unsettled transfer stored under a key of the old, un-namespaced form, if it is
        `strategy_name`'s (None: the operator's)."""
        query = select(_TABLE).where(
            _TABLE.c.dedupe_key == dedupe_key,
            _TABLE.c.status.notin_(SETTLED),
            _TABLE.c.strategy_name.is_not_distinct_from(strategy_name),
        )
        return self._session.execute(query).mappings().first()

    def route_usage(
        self, route: Mapping[str, str], since: datetime, exclude: uuid.UUID | None = None
    ) -> Decimal:
        """The amount a route's transfers count against its cap: every transfer of the route
        (columns from_dex, from_account, to_dex, to_account, asset) except cancelled ones and
        failed ones whose money stayed at the source, while unsettled and until `since` is
        past its last change. Call it under the route's lock (`db.locks`)."""
        query = select(func.coalesce(func.sum(_TABLE.c.amount_usd), 0)).where(
            *(_TABLE.c[column] == value for column, value in route.items()),
            _TABLE.c.status != "cancelled",
            not_(and_(_TABLE.c.status == "failed", _TABLE.c.funds_location == "source")),
            or_(_TABLE.c.status.notin_(SETTLED), _TABLE.c.updated_at > since),
        )
        if exclude is not None:
            query = query.where(_TABLE.c.id != exclude)
        return Decimal(self._session.execute(query).scalar_one())

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
        event: Mapping[str, Any] | None = None,
    ) -> RowMapping:
        """`UPDATE ... WHERE status = expected AND version = expected`; a miss raises.

        `event` (the columns of an `events` row, `events.event_values`) is inserted by the
        same statement, only if the update matched: one round trip for the change and its
        audit row."""
        changed = (
            update(_TABLE)
            .where(
                _TABLE.c.id == transfer_id,
                _TABLE.c.status == expected_status,
                _TABLE.c.version == expected_version,
            )
            .values(**values, version=expected_version + 1, updated_at=updated_at)
            .returning(*_TABLE.c)
        )
        statement: Executable = changed
        if event is not None:
            self._session.flush()  # audit rows added earlier in the transaction come first
            updated = changed.cte("updated")
            audit = (
                insert(_EVENTS)
                .from_select(
                    list(event),
                    select(*(literal(v, _EVENTS.c[k].type) for k, v in event.items())).select_from(
                        updated
                    ),
                )
                .cte("audit")
            )
            statement = select(updated).add_cte(audit)
        row = self._session.execute(statement).mappings().one_or_none()
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

"""`halts`: trip, read and lift circuit-breaker halts.

A halt stops new exposure for its scope (one strategy, or `*` for all) until an operator
lifts it; nothing lifts one automatically. Tripping is idempotent: while a scope is halted a
second trip (another breaker, another worker, the same breaker again) keeps the first halt,
so the recorded cause is the one that stopped trading. Times come from the caller's clock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models.halts import GLOBAL_SCOPE, Halt

__all__ = ["GLOBAL_SCOPE", "HaltRecord", "HaltRepository"]

_SCOPE_MAX = 50
_BREAKER_MAX = 40
_BY_MAX = 100


@dataclass(frozen=True, slots=True)
class HaltRecord:
    id: uuid.UUID
    scope: str  # a strategy name, or "*" for every strategy
    breaker: str  # which breaker tripped ("manual" for an operator's halt)
    reason: str
    tripped_at: datetime
    lifted_at: datetime | None
    lifted_by: str | None

    @property
    def is_global(self) -> bool:
        return self.scope == GLOBAL_SCOPE

    def describe(self) -> str:
        """One line for the operator: what is halted, by which breaker, why."""
        what = "all strategies" if self.is_global else f"strategy {self.scope}"
        when = self.tripped_at.astimezone(UTC)
        by = f"{what} halted by {self.breaker} breaker"
        return f"{by} at {when:%Y-%m-%d %H:%M:%S}Z: {self.reason}"


def _record(row: Halt) -> HaltRecord:
    return HaltRecord(
        id=row.id,
        scope=row.scope,
        breaker=row.breaker,
        reason=row.reason,
        tripped_at=row.tripped_at,
        lifted_at=row.lifted_at,
        lifted_by=row.lifted_by,
    )


def _check_text(field: str, value: str, limit: int) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"halt {field} must be a non-empty string, got {value!r}")
    if len(value) > limit:
        raise ValueError(f"halt {field} {value[:20]!r}... is longer than {limit} characters")


def _check_time(field: str, at: datetime) -> None:
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise ValueError(f"halt {field} must be a timezone-aware datetime, got {at!r}")


class HaltRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def trip(self, scope: str, breaker: str, reason: str, at: datetime) -> HaltRecord:
        """Halt `scope` (a strategy name or "*"); the active halt, the first if it already was."""
        _check_text("scope", scope, _SCOPE_MAX)
        _check_text("breaker", breaker, _BREAKER_MAX)
        _check_text("reason", reason, 10_000)
        _check_time("time", at)
        self._session.execute(
            insert(Halt)
            .values(
                id=uuid.uuid4(), scope=scope, breaker=str(breaker), reason=reason, tripped_at=at
            )
            .on_conflict_do_nothing(index_elements=["scope"], index_where=text("lifted_at IS NULL"))
        )
        row = self._session.scalars(
            select(Halt).where(Halt.scope == scope, Halt.lifted_at.is_(None))
        ).one()
        return _record(row)

    def active(self, strategy: str) -> HaltRecord | None:
        """The halt stopping `strategy`: its own or the global one (the earlier if both)."""
        row = self._session.scalars(
            select(Halt)
            .where(
                Halt.lifted_at.is_(None),
                or_(Halt.scope == strategy, Halt.scope == GLOBAL_SCOPE),
            )
            .order_by(Halt.tripped_at, Halt.scope)
            .limit(1)
        ).first()
        return None if row is None else _record(row)

    def lift(self, scope: str, by: str, at: datetime) -> bool:
        """Lift the active halt of `scope`; False when there was none."""
        _check_text("scope", scope, _SCOPE_MAX)
        _check_text("lifted_by", by, _BY_MAX)
        _check_time("lift time", at)
        result = self._session.execute(
            update(Halt)
            .where(Halt.scope == scope, Halt.lifted_at.is_(None))
            .values(lifted_at=at, lifted_by=by)
            .returning(Halt.id)
        )
        return result.first() is not None

    def list_active(self) -> list[HaltRecord]:
        rows = self._session.scalars(
            select(Halt).where(Halt.lifted_at.is_(None)).order_by(Halt.tripped_at, Halt.scope)
        )
        return [_record(r) for r in rows]

    def history(self, limit: int = 50) -> Sequence[HaltRecord]:
        """The latest halts, lifted ones included, newest first."""
        rows = self._session.scalars(select(Halt).order_by(Halt.tripped_at.desc()).limit(limit))
        return [_record(r) for r in rows]

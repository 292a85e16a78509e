"""Rules shared by both position backends, applied before storage is touched.

Values are checked and canonicalized here once, so PostgreSQL and the in-memory twin accept,
refuse and round identically: money and rates are Decimal quantized to NUMERIC(38, 18)
(half away from zero, as PostgreSQL rounds), floats are refused, text fits its column.
Planners return the fields to write plus the audit event explaining them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from core.clock import ensure_utc
from core.enums import PositionOperation, PositionStatus
from core.errors import ConcurrencyConflictError
from strategies.components.base_components import (
    ALLOWED_POSITION_TRANSITIONS,
    ActivePositionExistsError,
    InvalidPositionError,
    NewPosition,
    PositionRecord,
    PositionTransitionError,
    PositionUpdate,
)

ENTITY_TYPE = "position"
_SCALE = Decimal("1e-18")
_LIMIT = Decimal(10) ** 20  # NUMERIC(38, 18) holds 20 digits before the point
_CONTEXT = Context(prec=38, rounding=ROUND_HALF_UP)
_NON_NEGATIVE = frozenset({"size_usd", "long_qty", "short_qty"})
_POSITIVE = frozenset({"long_entry_price", "short_entry_price"})
_TEXT_LIMITS = {"strategy_name": 50, "symbol": 20, "long_dex": 20, "short_dex": 20}
_REASON_REQUIRED = frozenset({PositionStatus.FAILED, PositionStatus.NEEDS_RECONCILE})


def canonical_money(value: object, name: str) -> Decimal:
    """`value` as stored in NUMERIC(38, 18), or `InvalidPositionError` naming `name`."""
    if not isinstance(value, Decimal):
        raise InvalidPositionError(f"{name}: expected a Decimal, got {type(value).__name__}")
    if not value.is_finite() or abs(value) >= _LIMIT:
        raise InvalidPositionError(f"{name}: {value} is out of range (|value| < 1e20)")
    quantized = value.quantize(_SCALE, context=_CONTEXT)
    if name in _NON_NEGATIVE and quantized < 0:
        raise InvalidPositionError(f"{name}: must be >= 0, got {value}")
    if name in _POSITIVE and quantized <= 0:
        raise InvalidPositionError(f"{name}: must be > 0, got {value}")
    return abs(quantized) if quantized.is_zero() else quantized  # no negative zero


def _checked_time(value: object, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidPositionError(f"{name}: expected a datetime, got {type(value).__name__}")
    try:
        return ensure_utc(value)
    except ValueError as exc:
        raise InvalidPositionError(f"{name}: {exc}") from None


def _check_text(value: str | None, name: str, required: bool) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or not value.strip():
        raise InvalidPositionError(f"{name}: must be a non-empty string")
    if len(value) > _TEXT_LIMITS[name]:
        raise InvalidPositionError(f"{name}: {value!r} is longer than {_TEXT_LIMITS[name]}")


def check_new_position(position: NewPosition) -> NewPosition:
    """Validate and canonicalize a position to open."""
    _check_text(position.strategy_name, "strategy_name", required=True)
    _check_text(position.symbol, "symbol", required=True)
    _check_text(position.long_dex, "long_dex", required=False)
    _check_text(position.short_dex, "short_dex", required=False)
    if position.long_dex is None and position.short_dex is None:
        raise InvalidPositionError("long_dex/short_dex: a position needs at least one leg")
    if position.long_dex == position.short_dex:
        raise InvalidPositionError(f"long_dex/short_dex: both legs on {position.long_dex!r}")
    if position.status not in (PositionStatus.OPENING, PositionStatus.OPEN):
        raise InvalidPositionError(
            f"status: a new position is opening or open, not {position.status}"
        )
    divergence = position.entry_divergence
    return replace(
        position,
        size_usd=canonical_money(position.size_usd, "size_usd"),
        entry_divergence=None
        if divergence is None
        else canonical_money(divergence, "entry_divergence"),
    )


@dataclass(frozen=True, slots=True)
class PlannedChange:
    """Fields to write on one position, and the audit event that explains them."""

    values: dict[str, Any]
    event_kind: str
    payload: dict[str, Any]


def check_version(record: PositionRecord, expected_version: int | None) -> None:
    if expected_version is not None and record.version != expected_version:
        raise ConcurrencyConflictError(
            f"position {record.id}: expected version {expected_version}, found "
            f"{record.version}; re-read and retry"
        )


def plan_update(record: PositionRecord, changes: PositionUpdate) -> PlannedChange | None:
    """The fields that differ from `record`, validated; None when nothing changes."""
    values: dict[str, Any] = {}
    for spec in fields(changes):
        raw = getattr(changes, spec.name)
        if raw is None:
            continue
        value = (
            _checked_time(raw, spec.name)
            if spec.name.endswith("_at")
            else (canonical_money(raw, spec.name))
        )
        if value != getattr(record, spec.name):
            values[spec.name] = value
    if not values:
        return None
    if not record.is_active:
        raise PositionTransitionError(
            f"position {record.id} is {record.status}: a finished position cannot change"
        )
    return PlannedChange(values, "position.updated", {"changes": values})


def plan_transition(
    record: PositionRecord,
    status: PositionStatus,
    reason: str | None,
    now: datetime,
    realized_pnl_usd: Decimal | None = None,
    operation: PositionOperation | None = None,
) -> PlannedChange | None:
    """Fields for moving `record` to `status`; None when it is already there."""
    status = PositionStatus(status)
    if status == record.status:
        return None
    if status not in ALLOWED_POSITION_TRANSITIONS[record.status]:
        allowed = ", ".join(sorted(ALLOWED_POSITION_TRANSITIONS[record.status])) or "none"
        raise PositionTransitionError(
            f"position {record.id}: {record.status} -> {status} is not allowed "
            f"(from {record.status}: {allowed})"
        )
    if status == PositionStatus.CLOSED and realized_pnl_usd is None:
        raise PositionTransitionError(f"position {record.id}: use close() to mark it closed")
    if (status in _REASON_REQUIRED or status == PositionStatus.CLOSED) and not (
        reason and reason.strip()
    ):
        raise InvalidPositionError(f"reason: required to mark position {record.id} {status}")
    values: dict[str, Any] = {
        "status": status,
        **_operation_after(record, status, reason, operation),
    }
    payload: dict[str, Any] = {"from": record.status, "to": status, "reason": reason}
    if values["operation"] is not None:
        payload["operation"] = values["operation"]
    if status == PositionStatus.OPEN and record.opened_at is None:
        values["opened_at"] = now
    if status in (PositionStatus.CLOSED, PositionStatus.FAILED):
        values.update(closed_at=now, close_reason=reason)
    if realized_pnl_usd is not None:
        values.update(
            realized_pnl_usd=canonical_money(realized_pnl_usd, "realized_pnl_usd"),
            unrealized_pnl_usd=canonical_money(Decimal(0), "unrealized_pnl_usd"),
        )
        payload["realized_pnl_usd"] = values["realized_pnl_usd"]
    kind = "position.closed" if status == PositionStatus.CLOSED else "position.status_changed"
    return PlannedChange(values, kind, payload)


def _operation_after(
    record: PositionRecord,
    status: PositionStatus,
    reason: str | None,
    operation: PositionOperation | None,
) -> dict[str, Any]:
    """`operation` and `operation_reason` once `record` moves to `status`."""
    if status == PositionStatus.CLOSING:
        return {"operation": PositionOperation.CLOSE, "operation_reason": reason}
    if status == PositionStatus.NEEDS_RECONCILE:
        doing = operation or record.operation or PositionOperation.RECONCILE
        if doing is PositionOperation.CLOSE and record.operation is PositionOperation.CLOSE:
            # A close in doubt is finished with the reason it was started for.
            return {"operation": doing, "operation_reason": record.operation_reason}
        return {"operation": doing, "operation_reason": reason}
    return {"operation": None, "operation_reason": None}


def opening_operation(position: NewPosition) -> PositionOperation | None:
    """The operation a new position starts in: OPEN while it is OPENING, none if OPEN."""
    return PositionOperation.OPEN if position.status == PositionStatus.OPENING else None


def opened_payload(position: NewPosition) -> dict[str, Any]:
    return {
        "symbol": position.symbol,
        "long_dex": position.long_dex,
        "short_dex": position.short_dex,
        "size_usd": position.size_usd,
        "entry_divergence": position.entry_divergence,
        "status": position.status,
    }


def active_exists_error(
    position: NewPosition, existing_id: uuid.UUID | None
) -> ActivePositionExistsError:
    return ActivePositionExistsError(
        f"{position.strategy_name}: an active position on {position.symbol} "
        f"(long {position.long_dex}, short {position.short_dex}) already exists"
        + (f": {existing_id}" if existing_id else ""),
        existing_id,
    )


Planner = Callable[[PositionRecord], PlannedChange | None]


def zero_money() -> Decimal:
    return canonical_money(Decimal(0), "zero")

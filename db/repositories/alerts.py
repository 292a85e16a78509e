"""`alert_deliveries`: the shared memory that deduplicates and rate-limits alerts across
every worker. A claim and its check run under one transaction-scoped advisory lock, so two
workers sending the same alert at once send it once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from core.alerts import Alert
from db.models import AlertDelivery

ALERTS_LOCK_NAMESPACE = 0x414C_5254  # "ALRT"


class Claim(StrEnum):
    SEND = "send"  # recorded as sent: deliver it now
    DUPLICATE = "duplicate"  # the same key was sent within the window: nothing recorded
    RATE_LIMITED = "rate_limited"  # recorded as suppressed


class AlertDeliveryRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def claim(
        self, alert: Alert, at: datetime, dedupe: timedelta, max_per_hour: int
    ) -> tuple[Claim, int | None]:
        """Decide whether `alert` goes out now; the delivery row's id when it does."""
        self._session.execute(
            text("SELECT pg_advisory_xact_lock(:ns, 0)"), {"ns": ALERTS_LOCK_NAMESPACE}
        )
        d = AlertDelivery
        recent = self._session.scalar(
            select(func.count())
            .select_from(d)
            .where(d.dedupe_key == alert.dedupe_key, d.status == "sent", d.at > at - dedupe)
        )
        if recent:
            return Claim.DUPLICATE, None
        sent_last_hour = self._session.scalar(
            select(func.count())
            .select_from(d)
            .where(d.status == "sent", d.at > at - timedelta(hours=1))
        )
        status = "sent" if (sent_last_hour or 0) < max_per_hour else "suppressed"
        row = AlertDelivery(
            dedupe_key=alert.dedupe_key,
            kind=alert.kind.value,
            severity=alert.severity.value,
            strategy_name=alert.strategy,
            subject=alert.subject,
            status=status,
            detail=None if status == "sent" else f"over {max_per_hour} alerts an hour",
            at=at,
        )
        self._session.add(row)
        self._session.flush()
        return (Claim.SEND if status == "sent" else Claim.RATE_LIMITED), row.id

    def mark_failed(self, delivery_id: int, detail: str) -> None:
        """The delivery did not go out: the key is free to be sent again."""
        self._session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.id == delivery_id)
            .values(status="failed", detail=detail[:2000])
        )

    def recent(self, limit: int = 50) -> Sequence[AlertDelivery]:
        return self._session.scalars(
            select(AlertDelivery)
            .order_by(AlertDelivery.at.desc(), AlertDelivery.id.desc())
            .limit(limit)
        ).all()

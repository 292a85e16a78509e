"""Alerts: what the system tells an operator, independent of how it is delivered.

Code that notices something an operator must know (a breaker tripped, a leg left unhedged,
a venue unreachable) builds an `Alert` and hands it to the `AlertSink` its runtime gives it.
Delivery (apprise URLs, deduplication, rate limits) is the sink's business, so callers never
know about it, and `send` never raises: a failed notification is logged, it must not stop a
repair or a close.

`dedupe_key` names the *condition*, not the message: the same key within the sink's window
is delivered once (e.g. `unhedged:<position id>`, `breaker:<halt id>`), so callers may send
on every tick while a condition lasts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

logger = logging.getLogger(__name__)


class AlertKind(StrEnum):
    POSITION_OPENED = "position_opened"
    POSITION_CLOSED = "position_closed"
    UNHEDGED_LEG = "unhedged_leg"
    BREAKER_TRIPPED = "breaker_tripped"
    HALT_LIFTED = "halt_lifted"
    RECONCILE_MISMATCH = "reconcile_mismatch"
    TRANSFER_STUCK = "transfer_stuck"
    TRANSFER_NEEDS_OPERATOR = "transfer_needs_operator"
    VENUE_DOWN = "venue_down"


class AlertSeverity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


_KEY_MAX = 200


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertKind
    dedupe_key: str
    subject: str
    body: str
    severity: AlertSeverity = AlertSeverity.WARNING
    strategy: str | None = None  # the strategy it concerns, if any
    tags: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.kind, AlertKind):
            raise ValueError(f"alert kind must be an AlertKind, got {self.kind!r}")
        if not isinstance(self.severity, AlertSeverity):
            raise ValueError(f"alert severity must be an AlertSeverity, got {self.severity!r}")
        if not self.dedupe_key.strip() or len(self.dedupe_key) > _KEY_MAX:
            raise ValueError(
                f"alert dedupe_key must be 1..{_KEY_MAX} characters, got {self.dedupe_key!r}"
            )
        if not self.subject.strip():
            raise ValueError(f"alert subject must not be empty ({self.kind} {self.dedupe_key})")


@runtime_checkable
class AlertSink(Protocol):
    """Where alerts go. `send` never raises; it returns whether the alert went out now
    (False when it was a duplicate, rate-limited, or its delivery failed and was logged)."""

    def send(self, alert: Alert) -> bool: ...


class LogAlertSink:
    """Alerts into the process log only: the sink when no notification URL is configured."""

    def send(self, alert: Alert) -> bool:
        level = logging.ERROR if alert.severity is AlertSeverity.CRITICAL else logging.WARNING
        if alert.severity is AlertSeverity.INFO:
            level = logging.INFO
        logger.log(
            level, "alert %s [%s] %s: %s", alert.kind, alert.dedupe_key, alert.subject, alert.body
        )
        return True

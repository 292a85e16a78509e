"""The alert sink every process uses: record in PostgreSQL, log, deliver through Apprise.

Apprise takes one URL list for every service it knows (Telegram, Slack, Discord, e-mail,
ntfy, plain JSON/form webhooks ...), from `PERPBOT_ALERT_URLS`. Before delivery the alert is
claimed in `alert_deliveries` (`db/repositories/alerts.py`): the same dedupe key inside the
policy's window is dropped, and past `max_per_hour` alerts are recorded as suppressed, not
sent; that state is shared, so several workers never double-send. A delivery that fails is
marked failed (its key may go out again next time) and logged; `send` never raises.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

import apprise
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.alerts import Alert, AlertSeverity, LogAlertSink
from core.clock import Clock
from core.ops_config import AlertPolicy
from db.repositories.alerts import AlertDeliveryRepository, Claim

logger = logging.getLogger(__name__)

_NOTIFY_TYPES = {
    AlertSeverity.INFO: apprise.NotifyType.INFO,
    AlertSeverity.WARNING: apprise.NotifyType.WARNING,
    AlertSeverity.CRITICAL: apprise.NotifyType.FAILURE,
}


def parse_alert_urls(value: str | None) -> list[str]:
    """The URLs in a comma/space/newline separated list (empty entries dropped)."""
    if not value:
        return []
    return [u for u in value.replace(",", " ").split() if u]


class DeliveringAlertSink:
    def __init__(
        self, engine: Engine, clock: Clock, urls: Sequence[str], policy: AlertPolicy
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._policy = policy
        self._log = LogAlertSink()
        self._apprise = apprise.Apprise()
        for url in urls:
            if not self._apprise.add(url):
                # The URL itself may hold a token: name its scheme only.
                scheme = url.partition("://")[0] or "?"
                raise ValueError(
                    f"PERPBOT_ALERT_URLS: a {scheme}:// URL is not one apprise accepts"
                )
        self._delivers = len(self._apprise) > 0

    def send(self, alert: Alert) -> bool:
        try:
            with Session(self._engine) as session, session.begin():
                claim, delivery_id = AlertDeliveryRepository(session).claim(
                    alert,
                    self._clock.now(),
                    timedelta(seconds=self._policy.dedupe_seconds),
                    self._policy.max_per_hour,
                )
        except Exception:
            logger.exception("alert %s: could not be recorded; logged only", alert.dedupe_key)
            self._log.send(alert)
            return False
        if claim is not Claim.SEND or delivery_id is None:
            if claim is Claim.RATE_LIMITED:
                logger.warning("alert %s suppressed: over the hourly limit", alert.dedupe_key)
            return False
        self._log.send(alert)
        if not self._delivers:
            return True
        error = self._deliver(alert)
        if error is None:
            return True
        logger.error("alert %s: delivery failed: %s", alert.dedupe_key, error)
        try:
            with Session(self._engine) as session, session.begin():
                AlertDeliveryRepository(session).mark_failed(delivery_id, error)
        except Exception:
            logger.exception("alert %s: could not record the failed delivery", alert.dedupe_key)
        return False

    def _deliver(self, alert: Alert) -> str | None:
        try:
            ok = self._apprise.notify(
                title=alert.subject,
                body=f"{alert.body}\n\n[{alert.kind} {alert.severity}] {alert.dedupe_key}",
                notify_type=_NOTIFY_TYPES[alert.severity],
            )
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return None if ok else "apprise reported that no service accepted it"

"""The breaker check (beat entry `breakers-check`): probe the venues, compute each scope's
figures, halt what trips, and turn what PostgreSQL says into alerts.

One pass, safe to run from any worker at any time and to repeat: a halt is tripped at most
once per scope (the first cause stays), an alert goes out at most once per dedupe key
within the sink's window, and closes are asked for only when this pass tripped the halt.
Alerts come from persisted state (positions, transfers, events, venue probes), so the code
that changes the state never has to remember to send one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.alerts import Alert, AlertKind, AlertSeverity
from core.enums import ACTIVE_POSITION_STATUSES, PositionOperation, PositionStatus, TransferStatus
from core.ops_config import BreakerLimits
from db.models import Event, FundTransfer, StrategyPosition
from db.models.halts import GLOBAL_SCOPE
from db.repositories.breakers import BreakerRepository, VenueProbe
from db.repositories.halts import HaltRepository
from strategies.components.breakers import (
    BreakerTrip,
    ScopeFigures,
    VenueOutage,
    evaluate,
    stricter,
)
from strategies.components.transfer_states import ACTIVE_STATUSES
from strategies.runtime import Runtime, halt_alert, venue_accounts

logger = logging.getLogger(__name__)

# A venue down this long is alerted even when no breaker watches it.
VENUE_DOWN_ALERT_SECONDS = 120.0
# An active transfer not moved for this long is "stuck" (the sweeper retries every 30 s).
TRANSFER_STUCK_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class CloseRequest:
    strategy: str
    position_id: uuid.UUID
    reason: str


@dataclass(slots=True)
class CheckReport:
    at: datetime
    tripped: list[BreakerTrip] = field(default_factory=list)
    closes: list[CloseRequest] = field(default_factory=list)
    venues_down: list[str] = field(default_factory=list)
    alerts_sent: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(),
            "tripped": [
                {"scope": t.scope, "breaker": t.breaker, "reason": t.reason} for t in self.tripped
            ],
            "closes": [str(c.position_id) for c in self.closes],
            "venues_down": self.venues_down,
            "alerts_sent": self.alerts_sent,
        }


class BreakerCheck:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._engine = runtime.engine
        self._clock = runtime.clock
        self._deployment = runtime.ops_config.breakers

    def run(self) -> CheckReport:
        now = self._clock.now()
        report = CheckReport(now)
        configs = {n: c for n, c in self._runtime.configs.items() if getattr(c, "enabled", True)}
        probes = self._probe(
            {(va.venue, va.account) for c in configs.values() for va in venue_accounts(c)}
        )
        down = {(p.venue, p.account): p for p in probes if p.down_since is not None}
        report.venues_down = sorted(f"{v}/{a}" for v, a in down)
        for name, config in sorted(configs.items()):
            outages = tuple(
                VenueOutage(va.venue, va.account, probe.down_since, probe.last_error or "")
                for va in venue_accounts(config)
                if (probe := down.get((va.venue, va.account))) is not None
                and probe.down_since is not None
            )
            limits = config.breakers.model_copy(
                update={"venue_unreachable_seconds": stricter(config.breakers, self._deployment)}
            )
            self._scope(name, limits, outages, now, report, [name])
        world = self._deployment.model_copy(update={"venue_unreachable_seconds": None})
        self._scope(GLOBAL_SCOPE, world, (), now, report, sorted(configs))
        report.alerts_sent += self._send(self._state_alerts(now, probes))
        return report

    # ------------------------------------------------------------ venues

    def _probe(self, accounts: Iterable[tuple[str, str]]) -> list[VenueProbe]:
        """Ask each venue account for its balance (an authenticated round trip)."""
        outcomes: list[tuple[str, str, str | None]] = []
        for venue, account in sorted(accounts):
            try:
                self._runtime.exchange(venue, account).balance()
                outcomes.append((venue, account, None))
            except Exception as exc:  # any failure to answer is "unreachable" here
                outcomes.append((venue, account, f"{type(exc).__name__}: {exc}"[:500]))
        at = self._clock.now()
        with Session(self._engine) as session, session.begin():
            repo = BreakerRepository(session)
            return [repo.record_probe(v, a, at, error) for v, a, error in outcomes]

    # ------------------------------------------------------------ breakers

    def _scope(
        self,
        scope: str,
        limits: BreakerLimits,
        outages: tuple[VenueOutage, ...],
        now: datetime,
        report: CheckReport,
        strategies: list[str],
    ) -> None:
        with Session(self._engine) as session, session.begin():
            figures_repo = BreakerRepository(session)
            pnl = figures_repo.net_pnl(scope)
            marks = figures_repo.roll_marks(scope, pnl, now)
            figures = ScopeFigures(
                scope=scope,
                net_pnl_usd=pnl,
                peak_pnl_usd=marks.peak_pnl_usd,
                day_start_pnl_usd=marks.day_start_pnl_usd,
                consecutive_failed_opens=figures_repo.consecutive_failed_opens(scope),
                unhedged_notional_usd=figures_repo.unhedged_notional(scope),
                outages=outages,
            )
            trips = evaluate(limits, figures, now)
            if not trips:
                return
            first = trips[0]
            reason = "; ".join(t.reason for t in trips)
            record, created = HaltRepository(session).trip_with_outcome(
                scope, first.breaker, reason, now
            )
            closes: list[CloseRequest] = []
            if created and limits.close_hedged_on_trip:
                closes = self._hedged(
                    session, strategies, f"breaker {first.breaker}: {first.reason}"
                )
        logger.warning("breaker %s tripped for %s: %s", first.breaker, scope, reason)
        if created:
            report.tripped.append(BreakerTrip(scope, first.breaker, reason))
            report.closes.extend(closes)
        report.alerts_sent += self._send([halt_alert(record)])

    @staticmethod
    def _hedged(session: Session, strategies: list[str], reason: str) -> list[CloseRequest]:
        p = StrategyPosition
        rows = session.execute(
            select(p.strategy_name, p.id).where(
                p.strategy_name.in_(strategies), p.status == PositionStatus.OPEN.value
            )
        )
        return [CloseRequest(name, pid, reason) for name, pid in rows]

    # ------------------------------------------------------------ alerts from state

    def _state_alerts(self, now: datetime, probes: list[VenueProbe]) -> list[Alert]:
        alerts: list[Alert] = []
        for probe in probes:
            if probe.down_since is None:
                continue
            down = (now - probe.down_since).total_seconds()
            if down >= VENUE_DOWN_ALERT_SECONDS:
                alerts.append(
                    Alert(
                        AlertKind.VENUE_DOWN,
                        f"venue_down:{probe.venue}:{probe.account}:{probe.down_since.isoformat()}",
                        f"perpbot: {probe.venue}/{probe.account} unreachable for {down:.0f} s",
                        f"since {probe.down_since.isoformat()}; last error: {probe.last_error}",
                        AlertSeverity.CRITICAL,
                    )
                )
        with Session(self._engine) as session:
            alerts.extend(self._position_alerts(session))
            alerts.extend(self._transfer_alerts(session, now))
            if self._runtime.ops_config.alerts.send_info:
                alerts.extend(self._trade_alerts(session, now))
        return alerts

    @staticmethod
    def _position_alerts(session: Session) -> list[Alert]:
        p = StrategyPosition
        rows = session.scalars(
            select(p).where(p.status.in_([s.value for s in ACTIVE_POSITION_STATUSES]))
        )
        alerts = []
        for row in rows:
            hedged = row.long_dex is not None and row.short_dex is not None
            if row.status == PositionStatus.NEEDS_RECONCILE.value:
                mismatch = row.operation == PositionOperation.RECONCILE.value
                alerts.append(
                    Alert(
                        AlertKind.RECONCILE_MISMATCH if mismatch else AlertKind.UNHEDGED_LEG,
                        f"needs_reconcile:{row.id}:{row.version}",
                        f"perpbot: {row.strategy_name} {row.symbol} position needs reconciling",
                        f"position {row.id} ({row.long_dex}/{row.short_dex}) is "
                        f"needs_reconcile after {row.operation}: {row.operation_reason or '-'}; "
                        f"long {row.long_qty}, short {row.short_qty}",
                        AlertSeverity.CRITICAL,
                        strategy=row.strategy_name,
                    )
                )
            elif (
                hedged and row.long_qty != row.short_qty and row.status == PositionStatus.OPEN.value
            ):
                alerts.append(
                    Alert(
                        AlertKind.UNHEDGED_LEG,
                        f"unhedged:{row.id}:{row.long_qty}:{row.short_qty}",
                        f"perpbot: {row.strategy_name} {row.symbol} has an unhedged leg",
                        f"position {row.id}: long {row.long_qty} on {row.long_dex}, short "
                        f"{row.short_qty} on {row.short_dex}",
                        AlertSeverity.CRITICAL,
                        strategy=row.strategy_name,
                    )
                )
        return alerts

    @staticmethod
    def _transfer_alerts(session: Session, now: datetime) -> list[Alert]:
        t = FundTransfer
        stuck_before = now - timedelta(seconds=TRANSFER_STUCK_SECONDS)
        rows = session.scalars(
            select(t).where(
                (t.status.in_([TransferStatus.NEEDS_RECONCILE.value, TransferStatus.FAILED.value]))
                | (t.status.in_([s.value for s in ACTIVE_STATUSES]) & (t.updated_at < stuck_before))
            )
        )
        alerts = []
        for row in rows:
            route = f"{row.amount_usd:,.2f} {row.asset} {row.from_dex}->{row.to_dex}"
            if row.status in (TransferStatus.NEEDS_RECONCILE.value, TransferStatus.FAILED.value):
                alerts.append(
                    Alert(
                        AlertKind.TRANSFER_NEEDS_OPERATOR,
                        f"transfer:{row.id}:{row.status}",
                        f"perpbot: transfer {route} is {row.status}",
                        f"transfer {row.id}: funds at {row.funds_location}; "
                        f"last error: {row.last_error or '-'}",
                        AlertSeverity.CRITICAL,
                        strategy=row.strategy_name,
                    )
                )
            else:
                alerts.append(
                    Alert(
                        AlertKind.TRANSFER_STUCK,
                        f"transfer_stuck:{row.id}:{row.status}",
                        f"perpbot: transfer {route} stuck in {row.status}",
                        f"transfer {row.id} has not moved since {row.updated_at.isoformat()}",
                        AlertSeverity.WARNING,
                        strategy=row.strategy_name,
                    )
                )
        return alerts

    def _trade_alerts(self, session: Session, now: datetime) -> list[Alert]:
        since = now - timedelta(seconds=max(self._deployment.check_seconds * 4, 300))
        rows = session.scalars(
            select(Event).where(
                Event.kind.in_(["position.opened", "position.closed"]), Event.occurred_at >= since
            )
        )
        alerts = []
        for row in rows:
            opened = row.kind == "position.opened"
            alerts.append(
                Alert(
                    AlertKind.POSITION_OPENED if opened else AlertKind.POSITION_CLOSED,
                    f"{row.kind}:{row.entity_id}",
                    f"perpbot: {row.strategy_name} position {'opened' if opened else 'closed'}",
                    f"position {row.entity_id}: {row.payload}",
                    AlertSeverity.INFO,
                    strategy=row.strategy_name,
                )
            )
        return alerts

    def _send(self, alerts: Iterable[Alert]) -> int:
        return sum(1 for alert in alerts if self._runtime.alerts.send(alert))

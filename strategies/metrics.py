"""Prometheus metrics, read from PostgreSQL at scrape time (`trading_bot.py metrics`).

Nothing is counted in process memory: every scrape reads the tables the system already
writes, so any number of workers and a restarted exporter agree. Money is exported as
float (Prometheus has no decimal type); the database keeps the exact values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.enums import ACTIVE_POSITION_STATUSES
from db.models import AlertDelivery, FundTransfer, StrategyPosition, TaskRun
from db.repositories.breakers import BreakerRepository
from db.repositories.halts import HaltRepository
from strategies.runtime import Runtime

_ACTIVE = [s.value for s in ACTIVE_POSITION_STATUSES]


class PerpbotCollector(Collector):
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def collect(self) -> Iterator[Metric]:
        now = self._runtime.clock.now()
        names = sorted(self._runtime.configs)
        with Session(self._runtime.engine) as session:
            yield from self._positions(session)
            yield from self._pnl(session, names)
            yield from self._phases(session, now)
            yield from self._halts(session, names)
            yield from self._venues_and_transfers(session)
            yield from self._alerts(session)
            yield from self._unhedged(session, now)

    @staticmethod
    def _positions(session: Session) -> Iterable[Metric]:
        p = StrategyPosition
        count = GaugeMetricFamily(
            "perpbot_positions", "Positions by strategy and status", labels=["strategy", "status"]
        )
        for strategy, status, n in session.execute(
            select(p.strategy_name, p.status, func.count()).group_by(p.strategy_name, p.status)
        ):
            count.add_metric([strategy, status], n)
        yield count
        exposure = GaugeMetricFamily(
            "perpbot_exposure_usd",
            "Notional held (quantity at entry price) on each venue by active positions",
            labels=["venue", "side"],
        )
        legs = [
            ("long", p.long_dex, p.long_qty * func.coalesce(p.long_entry_price, 0)),
            ("short", p.short_dex, p.short_qty * func.coalesce(p.short_entry_price, 0)),
        ]
        for side, venue, notional in legs:
            for name, total in session.execute(
                select(venue, func.sum(notional))
                .where(p.status.in_(_ACTIVE), venue.is_not(None))
                .group_by(venue)
            ):
                exposure.add_metric([str(name), side], float(total or 0))
        yield exposure

    @staticmethod
    def _pnl(session: Session, names: list[str]) -> Iterable[Metric]:
        p = StrategyPosition
        funding = GaugeMetricFamily(
            "perpbot_funding_usd",
            "Funding received (negative: paid), all positions",
            labels=["strategy"],
        )
        unrealized = GaugeMetricFamily(
            "perpbot_unrealized_pnl_usd", "Unrealised PnL of active positions", labels=["strategy"]
        )
        for strategy, f, u in session.execute(
            select(
                p.strategy_name,
                func.sum(p.long_funding_usd + p.short_funding_usd),
                func.sum(p.unrealized_pnl_usd).filter(p.status.in_(_ACTIVE)),
            ).group_by(p.strategy_name)
        ):
            funding.add_metric([strategy], float(f or 0))
            unrealized.add_metric([strategy], float(u or 0))
        yield funding
        yield unrealized
        net = GaugeMetricFamily(
            "perpbot_net_pnl_usd",
            "Net PnL as the breakers see it (funding - fees + price PnL)",
            labels=["strategy"],
        )
        figures = BreakerRepository(session)
        for name in names:
            net.add_metric([name], float(figures.net_pnl(name)))
        net.add_metric(["*"], float(figures.net_pnl("*")))
        yield net

    @staticmethod
    def _phases(session: Session, now: datetime) -> Iterable[Metric]:
        t = TaskRun
        runs = CounterMetricFamily(
            "perpbot_phase_runs",
            "Strategy task runs by outcome (skipped: the lock was taken or exposure blocked)",
            labels=["strategy", "phase", "status"],
        )
        age = GaugeMetricFamily(
            "perpbot_phase_last_run_age_seconds",
            "Seconds since the phase last ran (succeeded or failed): the lag an operator watches",
            labels=["strategy", "phase"],
        )
        for strategy, phase, status, n in session.execute(
            select(t.strategy_name, t.phase, t.status, func.count())
            .where(t.strategy_name.is_not(None), t.phase.is_not(None))
            .group_by(t.strategy_name, t.phase, t.status)
        ):
            runs.add_metric([str(strategy), str(phase), status], n)
        for strategy, phase, last in session.execute(
            select(t.strategy_name, t.phase, func.max(t.started_at))
            .where(t.strategy_name.is_not(None), t.status.in_(["succeeded", "failed"]))
            .group_by(t.strategy_name, t.phase)
        ):
            age.add_metric([str(strategy), phase or "-"], max((now - last).total_seconds(), 0.0))
        yield runs
        yield age

    @staticmethod
    def _halts(session: Session, names: list[str]) -> Iterable[Metric]:
        halts = HaltRepository(session)
        active = GaugeMetricFamily(
            "perpbot_halt_active",
            "1 per active halt, by scope and breaker",
            labels=["scope", "breaker"],
        )
        for record in halts.list_active():
            active.add_metric([record.scope, record.breaker], 1)
        yield active
        halted = GaugeMetricFamily(
            "perpbot_strategy_halted",
            "1 when the strategy may take no new exposure because of a halt (its own or global)",
            labels=["strategy"],
        )
        for name in names:
            halted.add_metric([name], 1 if halts.active(name) is not None else 0)
        yield halted

    @staticmethod
    def _venues_and_transfers(session: Session) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "perpbot_venue_up",
            "1 when the venue account answered its last probe",
            labels=["venue", "account"],
        )
        for probe in BreakerRepository(session).probes():
            up.add_metric([probe.venue, probe.account], 0 if probe.down_since is not None else 1)
        yield up
        transfers = GaugeMetricFamily(
            "perpbot_transfers", "Fund transfers by state", labels=["status"]
        )
        for status, n in session.execute(
            select(FundTransfer.status, func.count()).group_by(FundTransfer.status)
        ):
            transfers.add_metric([status], n)
        yield transfers

    @staticmethod
    def _alerts(session: Session) -> Iterable[Metric]:
        alerts = CounterMetricFamily(
            "perpbot_alerts",
            "Alerts handed to the sink, by kind and outcome",
            labels=["kind", "status"],
        )
        a = AlertDelivery
        for kind, status, n in session.execute(
            select(a.kind, a.status, func.count()).group_by(a.kind, a.status)
        ):
            alerts.add_metric([kind, status], n)
        yield alerts

    @staticmethod
    def _unhedged(session: Session, now: datetime) -> Iterable[Metric]:
        p = StrategyPosition
        notional = GaugeMetricFamily(
            "perpbot_unhedged_notional_usd",
            "USD at entry price held on one leg without its hedge (active hedged positions)",
            labels=["strategy"],
        )
        seconds = GaugeMetricFamily(
            "perpbot_naked_leg_seconds",
            "For the oldest position whose legs differ: seconds since it last changed (a lower "
            "bound of how long a leg has been naked)",
            labels=["strategy"],
        )
        figures = BreakerRepository(session)
        for (strategy,) in session.execute(select(p.strategy_name).distinct()):
            notional.add_metric([strategy], float(figures.unhedged_notional(strategy)))
        for strategy, oldest in session.execute(
            select(p.strategy_name, func.min(p.updated_at))
            .where(
                p.status.in_(_ACTIVE),
                p.long_dex.is_not(None),
                p.short_dex.is_not(None),
                p.long_qty != p.short_qty,
            )
            .group_by(p.strategy_name)
        ):
            seconds.add_metric([strategy], max((now - oldest).total_seconds(), 0.0))
        yield notional
        yield seconds


def registry_for(runtime: Runtime) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(PerpbotCollector(runtime))
    return registry


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return  # one line per scrape would drown the log


def serve_forever(runtime: Runtime, host: str, port: int, say: Callable[[str], None]) -> None:
    """Serve `/metrics` on host:port until interrupted."""
    server = make_server(
        host, port, make_wsgi_app(registry_for(runtime)), handler_class=_QuietHandler
    )
    say(f"perpbot metrics on http://{host}:{server.server_port}/metrics")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        say("stopped")
    finally:
        server.server_close()

"""The overview: each strategy's state, capital per venue, and what needs an operator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.enums import ACTIVE_POSITION_STATUSES, FundsLocation, OrderStatus
from dashboard.readmodel.scope import Scope
from db.models import (
    FundTransfer,
    PaperAccount,
    PaperOrder,
    PaperPosition,
    PaperVenue,
    StrategyControl,
    StrategyPosition,
    TaskRun,
)
from db.repositories.halts import HaltRepository
from strategies.components.transfer_states import ACTIVE_STATUSES, SETTLED_STATUSES

ZERO = Decimal(0)
# Failed runs older than this (on the deployment's clock) are history, not alerts.
FAILED_RUN_WINDOW = timedelta(hours=24)
IN_FLIGHT = (
    FundsLocation.IN_FLIGHT_WITHDRAWAL,
    FundsLocation.WALLET,
    FundsLocation.IN_FLIGHT_BRIDGE,
    FundsLocation.IN_FLIGHT_DEPOSIT,
    FundsLocation.UNKNOWN,
)


@dataclass(frozen=True, slots=True)
class LastRun:
    phase: str
    status: str
    reason: str | None
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class StrategyRow:
    name: str
    type: str
    state: str  # running / halted / paused / disabled
    why: str | None
    since: datetime | None
    active_positions: int
    last_run: LastRun | None


@dataclass(frozen=True, slots=True)
class CapitalRow:
    venue: str
    account: str
    strategies: tuple[str, ...]
    # None for a live venue: perpbot stores no balances of real venues.
    collateral: Decimal | None
    in_positions: Decimal | None  # isolated margin of positions plus margin of resting orders
    free: Decimal | None
    in_flight_in: Decimal  # transfers on their way to this venue, money off any venue
    in_flight_out: Decimal  # (money that left this venue and has not arrived)
    as_of: datetime | None  # how far the paper venue has simulated


@dataclass(frozen=True, slots=True)
class Alert:
    severity: str  # "critical" or "warning"
    what: str
    detail: str
    link: str | None
    at: datetime | None


def strategies(session: Session, scope: Scope) -> list[StrategyRow]:
    controls = {c.strategy_name: c for c in session.scalars(select(StrategyControl))}
    halts = HaltRepository(session)
    active = dict(
        session.execute(
            select(StrategyPosition.strategy_name, func.count())
            .where(StrategyPosition.status.in_(ACTIVE_POSITION_STATUSES))
            .group_by(StrategyPosition.strategy_name)
        ).all()
    )
    # The newest run of each strategy, one index probe per strategy.
    last = {
        row.strategy_name: LastRun(
            row.phase or row.task_name, row.status, row.reason, row.started_at, row.finished_at
        )
        for row in session.execute(
            text(
                "SELECT r.* FROM unnest(CAST(:names AS text[])) AS s(name) CROSS JOIN LATERAL "
                "(SELECT strategy_name, phase, task_name, status, reason, started_at, finished_at "
                "FROM task_runs WHERE strategy_name = s.name ORDER BY started_at DESC LIMIT 1) r"
            ),
            {"names": sorted(scope.configs)},
        )
    }
    rows = []
    for name, config in sorted(scope.configs.items()):
        control = controls.get(name)
        state: str
        why: str | None
        since: datetime | None
        if not getattr(config, "enabled", True):
            state, why, since = (
                "disabled",
                "enabled: false in its config (beat has no entries)",
                None,
            )
        elif (halt := halts.active(name)) is not None:
            # A halt outranks a pause: only `trading_bot.py resume --halt` lifts it.
            state, why, since = "halted", halt.describe(), halt.tripped_at
        elif control is not None and control.paused:
            state, why, since = "paused", control.reason, control.updated_at
        else:
            state, why, since = "running", None, None
        rows.append(
            StrategyRow(name, config.type, state, why, since, active.get(name, 0), last.get(name))
        )
    return rows


def capital(session: Session, scope: Scope) -> list[CapitalRow]:
    uses = scope.accounts()
    flows = _in_flight(session)
    paper: dict[tuple[str, str], tuple[Decimal, Decimal, Decimal]] = {}
    processed: dict[str, datetime] = {}
    if scope.paper and uses:
        margin = (
            select(PaperPosition.account_id, func.sum(PaperPosition.margin).label("m"))
            .group_by(PaperPosition.account_id)
            .subquery()
        )
        reserved = (
            select(PaperOrder.account_id, func.sum(PaperOrder.reserved_margin).label("r"))
            .where(PaperOrder.status.in_((OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)))
            .group_by(PaperOrder.account_id)
            .subquery()
        )
        for venue, account, collateral, m, r in session.execute(
            select(
                PaperAccount.venue,
                PaperAccount.account,
                PaperAccount.collateral,
                func.coalesce(margin.c.m, 0),
                func.coalesce(reserved.c.r, 0),
            )
            .outerjoin(margin, margin.c.account_id == PaperAccount.id)
            .outerjoin(reserved, reserved.c.account_id == PaperAccount.id)
        ):
            paper[(venue, account)] = (collateral, m, r)
        processed = {
            venue: at
            for venue, at in session.execute(select(PaperVenue.venue, PaperVenue.processed_through))
        }
    rows = []
    for use in uses:
        held = paper.get((use.venue, use.account))
        incoming, outgoing = flows.get((use.venue, use.account), (ZERO, ZERO))
        if held is None:
            collateral = in_positions = free = None
        else:
            collateral, margin_held, reserved_held = held
            in_positions = margin_held + reserved_held
            free = collateral - in_positions
        rows.append(
            CapitalRow(
                use.venue,
                use.account,
                use.strategies,
                collateral,
                in_positions,
                free,
                incoming,
                outgoing,
                processed.get(use.venue),
            )
        )
    return rows


def _in_flight(session: Session) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """Per (venue, account): money of unsettled transfers that is on no venue right now."""
    flows: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
    for t in session.execute(
        select(
            FundTransfer.from_dex,
            FundTransfer.from_account,
            FundTransfer.to_dex,
            FundTransfer.to_account,
            FundTransfer.amount_usd,
        ).where(
            FundTransfer.status.not_in(SETTLED_STATUSES), FundTransfer.funds_location.in_(IN_FLIGHT)
        )
    ):
        incoming, outgoing = flows.get((t.to_dex, t.to_account), (ZERO, ZERO))
        flows[(t.to_dex, t.to_account)] = (incoming + t.amount_usd, outgoing)
        incoming, outgoing = flows.get((t.from_dex, t.from_account), (ZERO, ZERO))
        flows[(t.from_dex, t.from_account)] = (incoming, outgoing + t.amount_usd)
    return flows


def alerts(session: Session, scope: Scope) -> list[Alert]:
    """What exists today that needs a look: halts, positions not known to be hedged,
    transfers the automation stopped, failed runs of the last day."""
    found: list[Alert] = []
    for h in HaltRepository(session).list_active():
        what, target = ("all strategies", "--all") if h.is_global else (h.scope, h.scope)
        found.append(
            Alert(
                "critical",
                f"{what} halted ({h.breaker})",
                f"{h.reason}; lift with trading_bot.py resume {target} --halt",
                None if h.is_global else f"/positions?strategy={h.scope}",
                h.tripped_at,
            )
        )
    for p in session.scalars(
        select(StrategyPosition).where(
            (StrategyPosition.status == "needs_reconcile")
            | (
                StrategyPosition.status.in_(ACTIVE_POSITION_STATUSES)
                & StrategyPosition.close_failed_at.is_not(None)
            )
        )
    ):
        if p.status == "needs_reconcile":
            what = f"{p.strategy_name} {p.symbol}: needs reconcile (not known to be hedged)"
            severity = "critical"
        else:
            what = f"{p.strategy_name} {p.symbol}: a close failed, legs rehedged"
            severity = "warning"
        found.append(
            Alert(severity, what, p.operation_reason or "", f"/positions/{p.id}", p.updated_at)
        )
    for t in session.scalars(
        select(FundTransfer).where(
            FundTransfer.status.in_(("failed", "needs_reconcile"))
            | (FundTransfer.status.in_(ACTIVE_STATUSES) & (FundTransfer.unconfirmed_sends > 0))
        )
    ):
        found.append(
            Alert(
                "critical" if t.status == "needs_reconcile" else "warning",
                f"transfer {t.from_dex} -> {t.to_dex} ${t.amount_usd:,.2f}: {t.status}",
                t.last_error or t.operator_note or f"funds at {t.funds_location}",
                f"/transfers#{t.id}",
                t.updated_at,
            )
        )
    for run in session.scalars(
        select(TaskRun)
        .where(TaskRun.status == "failed", TaskRun.started_at >= scope.now - FAILED_RUN_WINDOW)
        .order_by(TaskRun.started_at.desc())
        .limit(20)
    ):
        error = str(run.result.get("error") or run.reason or "")
        found.append(
            Alert(
                "warning",
                f"{run.strategy_name or run.task_name} {run.phase or ''} failed",
                error,
                "/tasks?status=failed",
                run.started_at,
            )
        )
    return found

"""The status view (CLI `status` and the demo's live dashboard), read from PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Group
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Event, FundTransfer, StrategyPosition, TaskRun
from db.repositories.halts import HaltRepository
from db.repositories.runs import ControlRepository


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _strategies(session: Session) -> Table:
    from strategies.runtime import get_runtime

    runtime = get_runtime()
    controls = ControlRepository(session).all()
    last = {
        name: when
        for name, when in session.execute(
            select(TaskRun.strategy_name, func.max(TaskRun.finished_at)).group_by(
                TaskRun.strategy_name
            )
        )
    }
    table = Table(title="Strategies", title_justify="left")
    halts = HaltRepository(session)
    for column in ("name", "type", "enabled", "paused", "halted", "last run"):
        table.add_column(column)
    for name, config in sorted(runtime.configs.items()):
        paused = controls.get(name)
        halt = halts.active(name)
        table.add_row(
            name,
            config.type,
            "yes" if getattr(config, "enabled", True) else "no",
            "yes" if paused is not None and paused.paused else "no",
            "no"
            if halt is None
            else f"HALTED ({halt.breaker}{', global' if halt.is_global else ''})",
            f"{last[name]:%H:%M:%S}" if last.get(name) else "-",
        )
    return table


def _halts(session: Session) -> Table | str:
    """Every active halt with its cause: what `resume --halt` would lift."""
    active = HaltRepository(session).list_active()
    if not active:
        return "halts: none"
    table = Table(title="Halts (lift: trading_bot.py resume NAME --halt)", title_justify="left")
    for column in ("scope", "breaker", "since", "reason"):
        table.add_column(column)
    for h in active:
        table.add_row(h.scope, h.breaker, f"{h.tripped_at:%Y-%m-%d %H:%M:%S}", h.reason)
    return table


def _positions(session: Session, limit: int) -> Table:
    rows = session.scalars(
        select(StrategyPosition).order_by(StrategyPosition.created_at.desc()).limit(limit)
    ).all()
    table = Table(title="Positions (newest first)", title_justify="left")
    for column in (
        "strategy",
        "symbol",
        "long",
        "short",
        "size $",
        "status",
        "funding $",
        "fees $",
        "uPnL $",
        "rPnL $",
        "divergence/h",
    ):
        table.add_column(column, justify="right" if "$" in column or "/" in column else "left")
    for p in rows:
        table.add_row(
            p.strategy_name,
            p.symbol,
            p.long_dex or "-",
            p.short_dex or "-",
            _money(p.size_usd),
            p.status,
            _money(p.long_funding_usd + p.short_funding_usd),
            _money(p.fees_usd),
            _money(p.unrealized_pnl_usd),
            _money(p.realized_pnl_usd),
            f"{p.current_divergence * 100:.4f}%" if p.current_divergence is not None else "-",
        )
    return table


def _totals(session: Session) -> str:
    funding, fees, realized, unrealized, count = session.execute(
        select(
            func.coalesce(
                func.sum(StrategyPosition.long_funding_usd + StrategyPosition.short_funding_usd), 0
            ),
            func.coalesce(func.sum(StrategyPosition.fees_usd), 0),
            func.coalesce(func.sum(StrategyPosition.realized_pnl_usd), 0),
            func.coalesce(func.sum(StrategyPosition.unrealized_pnl_usd), 0),
            func.count(),
        )
    ).one()
    return (
        f"positions: {count}   funding collected: ${_money(funding)}   fees: ${_money(fees)}"
        f"   realized PnL: ${_money(realized)}   unrealized PnL: ${_money(unrealized)}"
    )


def _tasks(session: Session, limit: int) -> Table:
    rows = session.scalars(select(TaskRun).order_by(TaskRun.started_at.desc()).limit(limit))
    table = Table(title="Recent tasks", title_justify="left")
    for column in ("started", "strategy", "phase", "trigger", "status", "note"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            f"{r.started_at:%H:%M:%S}",
            r.strategy_name or "-",
            r.phase or r.task_name,
            r.trigger,
            r.status,
            (r.reason or "")[:50],
        )
    return table


def _transfers(session: Session, limit: int) -> Table:
    rows = session.scalars(
        select(FundTransfer).order_by(FundTransfer.created_at.desc()).limit(limit)
    )
    table = Table(title="Fund transfers", title_justify="left")
    for column in ("created", "from", "to", "amount $", "status", "funds at", "reason"):
        table.add_column(column)
    for t in rows:
        table.add_row(
            f"{t.created_at:%H:%M:%S}",
            t.from_dex,
            t.to_dex,
            _money(t.amount_usd),
            t.status,
            t.funds_location,
            (t.reason or "")[:40],
        )
    return table


def _decisions(session: Session, limit: int) -> Table:
    rows = session.scalars(select(Event).order_by(Event.id.desc()).limit(limit))
    table = Table(title="Recent decisions and events", title_justify="left")
    for column in ("time", "strategy", "event", "detail"):
        table.add_column(column)
    for e in rows:
        detail = ", ".join(f"{k}={v}" for k, v in list(e.payload.items())[:3])
        table.add_row(f"{e.occurred_at:%H:%M:%S}", e.strategy_name or "-", e.kind, detail[:70])
    return table


def render_status(limit: int = 10) -> Group:
    from strategies.runtime import get_runtime

    with Session(get_runtime().engine) as session:
        return Group(
            _strategies(session),
            _halts(session),
            _totals(session),
            _positions(session, limit),
            _decisions(session, limit),
            _tasks(session, limit),
            _transfers(session, limit),
        )

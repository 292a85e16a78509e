"""The demo's last screen: what happened, money to the cent (and the same as JSON)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.table import Table

from dashboard.formatting import money


def summary() -> dict[str, Any]:
    """Positions, PnL (funding, fees, price PnL as the dashboard splits them), orders, task
    runs and transfers of the demo's database. Amounts are exact decimal strings."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from dashboard.readmodel.pnl import totals
    from db.models import FundTransfer, Order, StrategyPosition, TaskRun
    from strategies.runtime import get_runtime

    runtime = get_runtime()
    with Session(runtime.engine) as session:
        positions = session.execute(
            select(StrategyPosition.strategy_name, StrategyPosition.status, func.count())
            .group_by(StrategyPosition.strategy_name, StrategyPosition.status)
            .order_by(StrategyPosition.strategy_name, StrategyPosition.status)
        ).all()
        realized, unrealized = session.execute(
            select(
                func.coalesce(func.sum(StrategyPosition.realized_pnl_usd), 0),
                func.coalesce(func.sum(StrategyPosition.unrealized_pnl_usd), 0),
            )
        ).one()
        pnl = totals(session, runtime.clock.now())
        orders = session.execute(select(Order.status, func.count()).group_by(Order.status)).all()
        runs = session.execute(select(TaskRun.status, func.count()).group_by(TaskRun.status)).all()
        transfers = session.execute(
            select(FundTransfer.status, func.count()).group_by(FundTransfer.status)
        ).all()
    return {
        "simulated_until": pnl.at.isoformat(),
        "positions": [{"strategy": s, "status": st, "count": n} for s, st, n in positions],
        "funding_collected_usd": str(pnl.funding),
        "fees_usd": str(pnl.fees),
        "price_pnl_usd": str(pnl.price),
        "net_pnl_usd": str(pnl.net),
        "realized_pnl_usd": str(realized),
        "unrealized_pnl_usd": str(unrealized),
        "orders": dict(orders),
        "task_runs": dict(runs),
        "transfers": dict(transfers),
    }


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{status} {n}" for status, n in sorted(counts.items())) or "none"


def render_summary(data: dict[str, Any]) -> Table:
    """The summary as a two-column table people read."""

    def usd(key: str, signed: bool = True) -> str:
        return f"${money(Decimal(str(data[key])), signed=signed)}"

    by_strategy: dict[str, list[str]] = {}
    for row in data["positions"]:
        by_strategy.setdefault(row["strategy"], []).append(f"{row['count']} {row['status']}")
    table = Table(title=f"perpbot demo — simulated until {data['simulated_until'][:16]} UTC")
    table.add_column("what", style="bold")
    table.add_column("result")
    table.add_row("funding collected", usd("funding_collected_usd"))
    table.add_row("fees paid", usd("fees_usd", signed=False))
    table.add_row("price PnL", usd("price_pnl_usd") + " (realised at closes + unrealised now)")
    table.add_row("net PnL", usd("net_pnl_usd") + " = funding - fees + price PnL")
    for strategy, parts in sorted(by_strategy.items()):
        table.add_row(f"positions: {strategy}", ", ".join(parts))
    if not by_strategy:
        table.add_row("positions", "none opened")
    table.add_row("orders", _counts(data["orders"]))
    table.add_row("fund transfers", _counts(data["transfers"]))
    table.add_row("task runs", _counts(data["task_runs"]))
    return table

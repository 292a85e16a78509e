"""The live update: a small JSON snapshot the pages poll (every 2 s) to refresh in place.

Three indexed reads: the PnL totals (as `pnl.totals`), counts of what is open and what needs
an operator, and each strategy's pause switch and newest run.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from core.enums import ACTIVE_POSITION_STATUSES
from dashboard.readmodel import pnl
from dashboard.readmodel.overview import FAILED_RUN_WINDOW
from dashboard.readmodel.scope import Scope

_COUNTS = text(
    """
SELECT
    (SELECT count(*) FROM strategy_positions
     WHERE status IN :active) AS active_positions,
    (SELECT count(*) FROM halts WHERE lifted_at IS NULL)
    + (SELECT count(*) FROM strategy_positions WHERE status = 'needs_reconcile'
        OR (status IN :active AND close_failed_at IS NOT NULL))
    + (SELECT count(*) FROM fund_transfers WHERE status IN ('failed', 'needs_reconcile')
        OR (status NOT IN ('completed', 'failed', 'cancelled', 'needs_reconcile')
            AND unconfirmed_sends > 0))
    + (SELECT count(*) FROM task_runs WHERE status = 'failed' AND started_at >= :since) AS alerts,
    (SELECT count(*) FROM fund_transfers
     WHERE status NOT IN ('completed', 'failed', 'cancelled')) AS transfers_in_flight,
    (SELECT max(id) FROM events) AS last_event_id
"""
).bindparams(bindparam("active", [s.value for s in ACTIVE_POSITION_STATUSES], expanding=True))

_STRATEGIES = text(
    """
SELECT s.name, coalesce(c.paused, false) AS paused, c.reason AS paused_reason,
       h.breaker AS halt_breaker, h.reason AS halt_reason,
       r.phase, r.status, r.reason, r.started_at
FROM unnest(CAST(:names AS text[])) AS s(name)
LEFT JOIN strategy_controls c ON c.strategy_name = s.name
LEFT JOIN LATERAL (
    SELECT breaker, reason FROM halts
    WHERE lifted_at IS NULL AND (scope = s.name OR scope = '*')
    ORDER BY tripped_at, scope LIMIT 1
) h ON true
LEFT JOIN LATERAL (
    SELECT coalesce(phase, task_name) AS phase, status, reason, started_at FROM task_runs
    WHERE strategy_name = s.name ORDER BY started_at DESC LIMIT 1
) r ON true
ORDER BY s.name
"""
)


def snapshot(session: Session, scope: Scope) -> dict[str, Any]:
    totals = pnl.totals(session, scope.now)
    counts = session.execute(_COUNTS, {"since": scope.now - FAILED_RUN_WINDOW}).one()
    strategies = {}
    for row in session.execute(_STRATEGIES, {"names": sorted(scope.configs)}):
        enabled = getattr(scope.configs[row.name], "enabled", True)
        if not enabled:
            state = "disabled"
        elif row.halt_breaker is not None:
            state = "halted"
        else:
            state = "paused" if row.paused else "running"
        strategies[row.name] = {
            "state": state,
            "paused_reason": row.paused_reason,
            "halt": None
            if row.halt_breaker is None
            else {"breaker": row.halt_breaker, "reason": row.halt_reason},
            "last_run": None
            if row.started_at is None
            else {
                "phase": row.phase,
                "status": row.status,
                "reason": row.reason,
                "at": row.started_at.isoformat(),
            },
        }
    return {
        "now": scope.now.isoformat(),
        "totals": totals.to_json(),
        "active_positions": counts.active_positions,
        "alerts": counts.alerts,
        "transfers_in_flight": counts.transfers_in_flight,
        "last_event_id": counts.last_event_id,
        "strategies": strategies,
    }

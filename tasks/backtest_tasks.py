"""Backtest sweeps: one task per parameter combination (see `backtest/sweep.py`)."""

from __future__ import annotations

from typing import Any

from celery.utils.log import get_task_logger

from backtest import sweep
from backtest.runner import BacktestRequest
from core.clock import clock_from_settings
from tasks import app

logger = get_task_logger(__name__)


@app.task(
    name="backtest.run_combination",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # A year of the sample per combination takes seconds; the limits stay below the
    # broker's visibility timeout (time limit + 360 s), so a lost worker's message returns.
    soft_time_limit=540,
    time_limit=600,
)
def run_combination(self: Any, request: dict[str, Any], combination: str) -> dict[str, Any]:
    result = sweep.run_combination(
        request, combination, clock_from_settings(), self.request.hostname
    )
    logger.info("backtest %s %s stored=%s", result["sweep_id"], combination, result["stored"])
    return result


def broker_available(timeout: int = 2) -> bool:
    """Whether the broker answers now (a sweep then fans out; otherwise it runs here)."""
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout)
    except Exception:  # any failure to connect means: no distributed engine
        return False
    return True


def enqueue_sweep(request: BacktestRequest) -> list[str]:
    """Send one task per combination not stored yet; returns the combinations sent."""
    keys = sweep.missing(request)
    data = request.to_json()
    for key in keys:
        run_combination.apply_async(args=(data, key))
    return keys

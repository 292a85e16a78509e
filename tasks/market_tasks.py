"""Market-data tasks on the `market` queue: funding-rate collection for every venue in use."""

from __future__ import annotations

from typing import Any

from celery import Task
from celery.utils.log import get_task_logger

from funding_service.collector import FundingCollector
from strategies.runtime import get_runtime, venue_accounts
from tasks import app

logger = get_task_logger(__name__)


def collection_venues() -> list[str]:
    """Every venue any configured strategy trades on (market data needs no sub-account)."""
    runtime = get_runtime()
    return sorted({va.venue for c in runtime.configs.values() for va in venue_accounts(c)})


@app.task(name="perpbot.market.collect_funding", bind=True, acks_late=True, queue="market")
def collect_funding(self: Task[..., Any], venues: list[str] | None = None) -> dict[str, Any]:
    """Store the current funding rates of `venues` (default: all in use). Idempotent."""
    runtime = get_runtime()
    names = venues if venues is not None else collection_venues()
    clients = {name: runtime.exchange(name) for name in names}
    report = FundingCollector(clients, runtime.clock, runtime.engine).collect()
    if report.failures:
        logger.warning("funding collection failures: %s", report.failures)
    return report.as_dict()

"""Sweeps on the distributed engine: one Celery task per combination, results in PostgreSQL.

A sweep's id is the digest of its request, so running the same sweep again finds what is
already stored and only runs what is missing. A combination's task (`run_combination`)
checks for its row first and writes its report piece with `ON CONFLICT DO NOTHING`: the
task is idempotent, which is what makes `acks_late` + `reject_on_worker_lost` safe. When a
worker dies mid-run the broker hands the message to another worker, which runs the
combination again from the start (a backtest is deterministic: the same piece results) and
stores it once. The gatherer waits on the rows, not on Celery results.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from backtest.runner import BacktestRequest, assemble, load, run_variant
from core.clock import Clock
from core.errors import ConfigError, PerpbotError
from db.repositories.backtests import BacktestResultRepository
from db.uow import unit_of_work
from funding_service.history.validate import HistoryRowError


class SweepTimeoutError(PerpbotError):
    """The workers did not store every combination in time; the message says which."""


def sweep_id(request: BacktestRequest) -> str:
    return f"sweep-{request.digest()}"


def stored_pieces(request: BacktestRequest) -> dict[str, dict[str, Any]]:
    with unit_of_work() as session:
        return BacktestResultRepository(session).pieces(sweep_id(request))


def missing(request: BacktestRequest) -> list[str]:
    """The combinations of `request` not stored yet, in the request's order."""
    have = stored_pieces(request)
    return [v.key for v in request.variants() if v.key not in have]


def run_combination(
    request_data: dict[str, Any], combination: str, clock: Clock, worker: str | None = None
) -> dict[str, Any]:
    """Run one combination and store its piece (nothing when it is already stored)."""
    request = BacktestRequest.from_json(request_data)
    variants = {v.key: v for v in request.variants()}
    if combination not in variants:
        raise ConfigError(f"{sweep_id(request)}: no combination {combination!r} in the request")
    sid = sweep_id(request)
    if combination in stored_pieces(request):
        return {"sweep_id": sid, "combination": combination, "stored": False}
    skipped: list[HistoryRowError] = []
    data = load(request, clock, skipped)
    piece = run_variant(request, variants[combination], data)
    with unit_of_work() as session:
        stored = BacktestResultRepository(session).store(
            sid, combination, piece, at=clock.now(), worker=worker
        )
    return {"sweep_id": sid, "combination": combination, "stored": stored}


def gather(
    request: BacktestRequest,
    clock: Clock,
    timeout_seconds: float,
    *,
    poll_seconds: float = 0.5,
    wait: Callable[[float], None] = time.sleep,
) -> tuple[dict[str, Any], list[HistoryRowError]]:
    """Wait until every combination is stored, then build the one report of the sweep."""
    deadline = time.monotonic() + timeout_seconds
    keys = [v.key for v in request.variants()]
    while True:
        have = stored_pieces(request)
        absent = [k for k in keys if k not in have]
        if not absent:
            break
        if time.monotonic() > deadline:
            raise SweepTimeoutError(
                f"{sweep_id(request)}: {len(absent)} of {len(keys)} combinations not stored "
                f"after {timeout_seconds:g} s ({', '.join(absent[:3])}...); run the same "
                "command again to wait for them (stored ones are kept)"
            )
        wait(poll_seconds)
    skipped: list[HistoryRowError] = []
    data = load(request, clock, skipped)
    return assemble(request, data, clock.now(), [have[k] for k in keys]), skipped

"""Fund-transfer steps per second: through the Celery chain vs in-process vs bare commits.

Same-chain transfers with no withdrawal delay and instant deposit confirmation, so each
transfer is exactly two steps (withdraw, deposit) and nothing waits for the sweeper:

- `chain`: N transfers requested at once; a real worker (2 processes) runs the steps as
  Celery tasks on Redis, each step enqueuing the next after its commit. Wall time until all
  are COMPLETED.
- `in-process`: the same steps called directly (no broker), one after another.
- `bare`: the same number of bare PostgreSQL transactions, each a guarded
  `UPDATE ... WHERE id = :id AND status = :expected` and its COMMIT.

A step is several transactions (lock + intent, the venue's or network's own, lock + result)
plus the paper venue's bookkeeping, so it costs a multiple of a bare commit. The target
(issue 18) is a step through the chain at most 5x a bare guarded commit; the floor of 10
steps/s is set by need (a deployment moves a handful of transfers an hour, and the sweep must
be able to poll a few hundred in-flight transfers every 30 s).
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections import deque
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from celery import Celery
from sqlalchemy import text

from bench import scratch_database

TRANSFERS = 60
STEPS_PER_TRANSFER = 2
TARGET_STEPS_PER_S = 10.0
TARGET_RATIO = 5.0
VENUES = {"hyperliquid": "arbitrum", "extended": "arbitrum"}


def _config() -> dict[str, Any]:
    from exchanges.paper.transfers import deposit_address

    allowlist: list[dict[str, Any]] = [
        {"chain": "arbitrum", "kind": "wallet", "address": "0x" + "b1" * 20}
    ]
    allowlist += [
        {
            "chain": chain,
            "kind": "venue_deposit",
            "venue": venue,
            "address": deposit_address(venue, "main", chain),
        }
        for venue, chain in VENUES.items()
    ]
    return {
        "routing": {
            "venues": {v: {"chain": c, "idempotent_withdrawals": True} for v, c in VENUES.items()},
            "allowlist": allowlist,
            "policy": {
                "poll_seconds": 1,
                "stuck_seconds": 60,
                "min_amount": "1",
                "max_amount": "50000",
                "route_cap_24h": "10000000",
            },
        },
        "paper": {
            "deposit_confirm_seconds": 0,
            "venues": {v: {"withdrawal_delay_s": 0} for v in VENUES},
        },
    }


def _request_all(manager: Any, tag: str) -> list[uuid.UUID]:
    return [
        manager.request_transfer(
            "hyperliquid", "extended", Decimal(100 + i), dedupe_key=f"{tag}-{i}"
        ).record.id
        for i in range(TRANSFERS)
    ]


def _wait_completed(engine: Any, ids: list[uuid.UUID], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            done = connection.execute(
                text(
                    "SELECT count(*) FROM fund_transfers "
                    "WHERE status = 'completed' AND id = ANY(:ids)"
                ),
                {"ids": ids},
            ).scalar_one()
        if done == len(ids):
            return
        time.sleep(0.05)
    raise TimeoutError(f"transfers not completed after {timeout}s")


class _Queue:
    def __init__(self) -> None:
        self.steps: deque[tuple[Any, uuid.UUID]] = deque()

    def dispatch(self, step: Any, transfer_id: uuid.UUID) -> None:
        self.steps.append((step, transfer_id))


def run() -> dict[str, Any]:
    import celeryconfig
    from core.clock import SystemClock
    from db.engine import engine_for
    from exchanges.paper import PaperExchange
    from strategies.transfer_wiring import TransfersConfig, build_transfer_manager
    from tasks.transfer_dispatch import CeleryStepDispatcher
    from tests.support.workers import celery_worker

    config = TransfersConfig.model_validate(_config())
    clock = SystemClock()
    prefix = f"perpbot-bench-{uuid.uuid4().hex[:8]}:"
    with scratch_database() as url, tempfile.TemporaryDirectory() as folder:
        engine = engine_for(url)
        PaperExchange("hyperliquid", engine=engine, clock=clock).credit_deposit(
            "bench-seed", "USDC", Decimal(10_000_000), "arbitrum"
        )
        path = Path(folder) / "transfers.yaml"
        path.write_text(yaml.safe_dump(_config()))

        # In-process: the steps alone, no broker.
        queue = _Queue()
        inline = build_transfer_manager(engine=engine, clock=clock, config=config, dispatcher=queue)
        ids = _request_all(inline, "inline")
        began = time.perf_counter()
        while queue.steps:
            step, transfer_id = queue.steps.popleft()
            inline.advance(step, transfer_id)
        inline_s = time.perf_counter() - began
        _wait_completed(engine, ids, timeout=1)

        # Through Celery: a worker with two processes on the configured Redis.
        driver = Celery("perpbot-bench-transfers")
        driver.config_from_object(celeryconfig)
        driver.conf.broker_transport_options = {
            **celeryconfig.broker_transport_options,
            "global_keyprefix": prefix,
        }
        env = {
            "DATABASE_URL": url,
            "PERPBOT_TRANSFERS_CONFIG": str(path),
            "PERPBOT_BROKER_PREFIX": prefix,
        }
        chained = build_transfer_manager(
            engine=engine, clock=clock, config=config, dispatcher=CeleryStepDispatcher(driver)
        )
        with celery_worker(app="tasks", queues="transfers", concurrency=2, env=env):
            began = time.perf_counter()
            ids = _request_all(chained, "chain")
            _wait_completed(engine, ids)
            chain_s = time.perf_counter() - began

        # Bare: the same number of guarded single-row updates, each its own transaction.
        steps = TRANSFERS * STEPS_PER_TRANSFER
        began = time.perf_counter()
        for i in range(steps):
            with engine.begin() as connection:
                connection.execute(
                    text(
                        "UPDATE fund_transfers SET attempts = attempts + 1 "
                        "WHERE id = :id AND status = 'completed'"
                    ),
                    {"id": ids[i % len(ids)]},
                )
        bare_s = time.perf_counter() - began
        engine.dispose()

    def row(case: str, seconds: float) -> dict[str, Any]:
        return {
            "case": case,
            "steps": steps,
            "seconds": round(seconds, 3),
            "steps_per_s": round(steps / seconds, 1),
            "ms_per_step": round(seconds * 1000 / steps, 2),
            "x_bare": round(seconds / bare_s, 1),
        }

    rows = [
        row("chain: Celery worker (2 processes), Redis", chain_s),
        row("in-process steps (no broker)", inline_s),
        row("bare UPDATE ... WHERE status + COMMIT", bare_s),
    ]
    chain = rows[0]
    chain.update(target=f"<= {TARGET_RATIO} x bare", met=chain["x_bare"] <= TARGET_RATIO)
    return {
        "name": "transfers",
        "title": f"Fund-transfer steps ({TRANSFERS} same-chain transfers, 2 steps each)",
        "rows": rows,
        "target": (
            f"a step through the Celery chain <= {TARGET_RATIO} x a bare guarded commit "
            f"(and >= {TARGET_STEPS_PER_S} steps/s)"
        ),
        "met": bool(chain["met"] and chain["steps_per_s"] >= TARGET_STEPS_PER_S),
        "notes": [f"worker and database on this machine ({os.cpu_count()} CPUs)"],
    }

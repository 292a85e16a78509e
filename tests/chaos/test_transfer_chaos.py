"""Chaos: many transfers while worker processes are SIGKILLed and restarted at random and
Redis is restarted once (losing every queued message); the paper venues execute 20% of
withdrawals but drop the response. Afterwards every transfer is final with its money
located, nothing was withdrawn, bridged or deposited twice, and the money is conserved to
the last unit (Decimal).

CI runs a small batch; `make chaos` runs 200 (PERPBOT_CHAOS_TRANSFERS).
"""

from __future__ import annotations

import os
import random
import signal
import socket
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack, suppress
from decimal import Decimal
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy.orm import Session

import celeryconfig
from core.clock import SystemClock
from core.embedded_redis import start_embedded_redis, stop_embedded_redis
from exchanges.bridges.accounting import money_figures
from exchanges.paper import PaperVenueConfig
from strategies.components.transfer_states import (
    ACTIVE_STATUSES,
)
from strategies.transfer_wiring import build_transfer_manager, load_transfers_config
from tasks.transfer_dispatch import CeleryStepDispatcher
from tests.chaos.transfer_audit import audit_transfers
from tests.integration.transfers.support import (
    VENUE_CHAINS,
    SweepDriver,
    fund_venues,
    wait_final,
    write_config,
)
from tests.support.workers import celery_worker, pool_children

TRANSFERS = int(os.environ.get("PERPBOT_CHAOS_TRANSFERS", "24"))
WORKERS = 2
START = Decimal(1_000_000)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Chaos:
    """Kills worker processes (a pool child, or a whole worker which is then replaced) at
    random intervals, and restarts Redis once."""

    def __init__(
        self,
        stack: ExitStack,
        env: dict[str, str],
        redis_dir: Path,
        port: int,
        in_flight: Callable[[], int],
        seed: int = 8,
    ) -> None:
        self.stack, self.env, self.redis_dir, self.port = stack, env, redis_dir, port
        self.random = random.Random(seed)
        self.workers = [self._start() for _ in range(WORKERS)]
        self.in_flight = in_flight
        self.kills = {"pool_child": 0, "worker": 0, "redis_restart": 0}
        self.in_flight_at_redis_restart = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _start(self):  # type: ignore[no-untyped-def]
        return self.stack.enter_context(
            celery_worker(queues="transfers", concurrency=2, env=self.env, ready_timeout=90)
        )

    def _run(self) -> None:
        redis_at = self.random.uniform(2, 4)
        started = time.monotonic()
        while not self._stop.wait(self.random.uniform(0.5, 1.5)):
            if not self.kills["redis_restart"] and time.monotonic() - started > redis_at:
                self.in_flight_at_redis_restart = self.in_flight()
                stop_embedded_redis(self.redis_dir, self.port)
                time.sleep(0.5)
                start_embedded_redis(self.redis_dir, self.port)
                self.kills["redis_restart"] += 1
                continue
            index = self.random.randrange(len(self.workers))
            worker = self.workers[index]
            children = pool_children(worker.pid)
            if children and self.random.random() < 0.6:
                os.kill(self.random.choice(children), signal.SIGKILL)
                self.kills["pool_child"] += 1
                continue
            for pid in [worker.pid, *children]:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            worker.wait(timeout=10)
            self.kills["worker"] += 1
            if not self._stop.is_set():
                self.workers[index] = self._start()

    def __enter__(self) -> Chaos:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=120)


@pytest.mark.chaos
@pytest.mark.timeout(1800)
def test_transfers_survive_killed_workers_a_redis_restart_and_dropped_responses(clean_db, tmp_path):
    port = _free_port()
    redis_dir = tmp_path / "redis"
    redis_url = start_embedded_redis(redis_dir, port)
    config_path = write_config(
        tmp_path / "transfers.yaml",
        withdrawal_delay_s=1,
        confirm_s=1,
        bridge_latency_s=1,
        faults={"drop_withdrawal_response_rate": 0.2, "seed": 8},
        bridge_failure={"fast_dear": 0.1},
        policy={"poll_seconds": 1.0, "stuck_seconds": 3, "min_amount": "1"},
    )
    env = {
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "PERPBOT_TRANSFERS_CONFIG": str(config_path),
    }
    driver = Celery("perpbot-chaos-driver")
    driver.config_from_object(celeryconfig)
    driver.conf.update(broker_url=redis_url, result_backend=redis_url)

    clock = SystemClock()
    fund_venues(clean_db, clock, START)
    with Session(clean_db) as session:
        before = money_figures(session)
    manager = build_transfer_manager(
        engine=clean_db,
        clock=clock,
        config=load_transfers_config(config_path),
        dispatcher=CeleryStepDispatcher(driver),
    )
    pick = random.Random(TRANSFERS)
    venues = sorted(VENUE_CHAINS)
    transfer_ids = []
    try:
        with ExitStack() as stack:
            active = lambda: len(manager.list(ACTIVE_STATUSES, limit=10_000))  # noqa: E731
            chaos = stack.enter_context(Chaos(stack, env, redis_dir, port, active))
            stack.enter_context(SweepDriver(driver, interval=0.3))
            for index in range(TRANSFERS):
                source, target = pick.sample(venues, 2)
                amount = Decimal(pick.randrange(5_000, 500_000)) / 100
                request = manager.request_transfer(
                    source, target, amount, dedupe_key=f"chaos-{index}", reason="chaos"
                )
                transfer_ids.append(request.record.id)
                time.sleep(pick.uniform(0, 0.05))
            # Chaos goes on until every transfer is final (the Redis restart comes early).
            wait_final(manager, transfer_ids, timeout=60 + TRANSFERS * 0.5)
            chaos.stop()
            kills = dict(chaos.kills)
            in_flight_at_restart = chaos.in_flight_at_redis_restart
    finally:
        stop_embedded_redis(redis_dir, port)

    records = [manager.get(t) for t in transfer_ids]
    with Session(clean_db) as session:
        after = money_figures(session)
    audit = audit_transfers(clean_db, records, after)
    faults = PaperVenueConfig(faults={"drop_withdrawal_response_rate": 0.2, "seed": 8}).faults
    dropped = sum(
        faults.decides(0.2, r.from_venue, str(r.withdrawal_ref), "withdraw_drop") for r in records
    )
    print(
        f"\nchaos: {TRANSFERS} transfers, kills {kills}, {in_flight_at_restart} in flight at "
        f"the Redis restart, {dropped} withdrawal responses dropped"
    )
    print(f"statuses: {dict(audit.statuses)}; money at: {dict(audit.locations)}")
    print(f"before:\n{before.describe()}\nafter:\n{after.describe()}")
    assert kills["redis_restart"] == 1 and in_flight_at_restart > 0
    assert kills["pool_child"] + kills["worker"] > 0
    assert dropped > 0
    assert audit.problems == []
    assert after.total == before.total == START * len(VENUE_CHAINS)

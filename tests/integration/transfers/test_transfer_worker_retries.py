"""Every step fails transiently twice before it succeeds (in whichever worker process runs
the retry): the transfer completes with exactly one withdrawal, bridge send and deposit."""

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import SystemClock
from core.enums import TransferStatus as S
from db.models import PaperFaultHit
from strategies.transfer_wiring import build_transfer_manager, load_transfers_config
from tasks.transfer_dispatch import CeleryStepDispatcher
from tests.integration.transfers.support import (
    START_BALANCE,
    VENUE_CHAINS,
    SweepDriver,
    figures,
    fund_venues,
    side_effect_counts,
    wait_final,
    write_config,
)
from tests.support.celery_app import app
from tests.support.workers import celery_worker

pytestmark = pytest.mark.slow

FAILURES = 2


def test_each_step_failing_transiently_then_succeeding_moves_the_money_once(clean_db, tmp_path):
    path = write_config(
        tmp_path / "transfers.yaml",
        withdrawal_delay_s=0,
        confirm_s=0,
        bridge_latency_s=0,
        policy={"poll_seconds": 0.2, "stuck_seconds": 20},
        transient={"withdraw": FAILURES, "bridge_send": FAILURES, "chain_send": FAILURES},
    )
    clock = SystemClock()
    fund_venues(clean_db, clock)
    manager = build_transfer_manager(
        engine=clean_db,
        clock=clock,
        config=load_transfers_config(path),
        dispatcher=CeleryStepDispatcher(app),
    )
    with celery_worker(
        queues="transfers", concurrency=2, env={"PERPBOT_TRANSFERS_CONFIG": str(path)}
    ):
        transfer = manager.request_transfer("extended", "lighter", Decimal(3000)).record.id
        with SweepDriver(app):
            wait_final(manager, [transfer], timeout=45)

    done = manager.get(transfer)
    assert done.status is S.COMPLETED
    assert side_effect_counts(clean_db, transfer) == {
        "withdrawals": 1,
        "bridge_sends": 1,
        "chain_sends": 1,
        "deposits": 1,
    }
    with Session(clean_db) as session:
        hits = dict(session.execute(select(PaperFaultHit.operation, PaperFaultHit.hits)).all())
    # Each operation failed twice, then went through (hits beyond that are lookups-free
    # duplicate deliveries that found the key done).
    assert set(hits) == {"withdraw", "bridge_send", "chain_send"}
    assert all(count >= FAILURES + 1 for count in hits.values()), hits
    assert figures(clean_db).total == START_BALANCE * len(VENUE_CHAINS)

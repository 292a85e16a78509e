"""Transfers carried by a real Celery worker process: the steps chain through Redis, waits
are polled by the sweep task, money is conserved."""

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from core.clock import SystemClock
from core.enums import FundsLocation as L
from core.enums import TransferStatus as S
from strategies.implementations.funding_arbitrage.operations.fund_transfer import (
    FundTransferManager,
)
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

TOTAL = START_BALANCE * len(VENUE_CHAINS)
FAST = {
    "withdrawal_delay_s": 1,
    "confirm_s": 1,
    "bridge_latency_s": 1,
    "policy": {"poll_seconds": 0.2, "stuck_seconds": 1.5},
}


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory):
    return write_config(tmp_path_factory.mktemp("transfers") / "transfers.yaml", **FAST)


@pytest.fixture(scope="module")
def worker(config_path) -> Iterator[None]:
    with celery_worker(
        queues="transfers", concurrency=2, env={"PERPBOT_TRANSFERS_CONFIG": str(config_path)}
    ):
        yield


@pytest.fixture
def manager(worker, clean_db: Engine, config_path) -> FundTransferManager:
    clock = SystemClock()
    fund_venues(clean_db, clock)
    return build_transfer_manager(
        engine=clean_db,
        clock=clock,
        config=load_transfers_config(config_path),
        dispatcher=CeleryStepDispatcher(app),
    )


def test_same_and_cross_chain_transfers_complete_through_the_worker(manager, clean_db):
    same = manager.request_transfer("hyperliquid", "extended", Decimal(1000)).record.id
    cross = manager.request_transfer("hyperliquid", "paradex", Decimal(2500)).record.id
    with SweepDriver(app):
        wait_final(manager, [same, cross], timeout=40)

    same_done, cross_done = manager.get(same), manager.get(cross)
    assert same_done.status is cross_done.status is S.COMPLETED
    assert same_done.received == Decimal(999)
    bridge_fee = Decimal("0.5") + (Decimal(2500) - 1) * Decimal("0.0004")  # on the net amount
    assert cross_done.fee == Decimal(1) + bridge_fee
    assert cross_done.received == Decimal(2500) - Decimal(1) - bridge_fee
    assert side_effect_counts(clean_db, same) == {
        "withdrawals": 1,
        "bridge_sends": 0,
        "chain_sends": 1,
        "deposits": 1,
    }
    assert side_effect_counts(clean_db, cross) == {
        "withdrawals": 1,
        "bridge_sends": 1,
        "chain_sends": 1,
        "deposits": 1,
    }
    money = figures(clean_db)
    assert money.total == TOTAL
    assert money.withdrawal_fees + money.bridge_fees == same_done.fee + cross_done.fee


def test_the_sweeper_resumes_a_transfer_whose_first_message_was_dropped(
    worker, clean_db, config_path
):
    clock = SystemClock()
    fund_venues(clean_db, clock)

    class DroppingDispatcher:
        def dispatch(self, step, transfer_id):
            return None  # the broker lost it

    dropping = build_transfer_manager(
        engine=clean_db,
        clock=clock,
        config=load_transfers_config(config_path),
        dispatcher=DroppingDispatcher(),
    )
    transfer = dropping.request_transfer("extended", "hyperliquid", Decimal(700)).record.id
    assert dropping.get(transfer).status is S.PENDING
    with SweepDriver(app):
        wait_final(dropping, [transfer], timeout=40)
    done = dropping.get(transfer)
    assert (done.status, done.funds_location) == (S.COMPLETED, L.DESTINATION)
    assert figures(clean_db).total == TOTAL

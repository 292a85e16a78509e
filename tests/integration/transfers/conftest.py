"""Fixtures for transfer tests: funded paper venues on a manual clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from core.clock import ManualClock
from core.enums import TransferStatus
from strategies.implementations.funding_arbitrage.operations.fund_transfer import (
    FundTransferManager,
)
from tests.integration.transfers.support import (
    InlineDispatcher,
    fund_venues,
    inline_manager,
    make_config,
)

START = datetime(2026, 3, 2, tzinfo=UTC)
FINAL = (
    TransferStatus.COMPLETED,
    TransferStatus.FAILED,
    TransferStatus.NEEDS_RECONCILE,
    TransferStatus.CANCELLED,
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def funded(clean_db: Engine, clock: ManualClock) -> Engine:
    fund_venues(clean_db, clock)
    return clean_db


Build = Callable[..., tuple[FundTransferManager, InlineDispatcher]]


@pytest.fixture
def build(funded: Engine, clock: ManualClock) -> Build:
    def make(**config: Any) -> tuple[FundTransferManager, InlineDispatcher]:
        return inline_manager(funded, clock, make_config(**config))

    return make


def run_until_final(
    manager: FundTransferManager,
    dispatcher: InlineDispatcher,
    clock: ManualClock,
    transfer_ids: list,
    tick: timedelta = timedelta(seconds=10),
    rounds: int = 200,
) -> None:
    """Run queued steps; move the clock and sweep (as beat would) until all are final."""
    for _ in range(rounds):
        dispatcher.drain(manager)
        if all(manager.get(t).status in FINAL for t in transfer_ids):
            return
        clock.advance(tick)
        manager.sweep()
    raise AssertionError(
        f"not final after {rounds} rounds: {[manager.get(t).status for t in transfer_ids]}"
    )

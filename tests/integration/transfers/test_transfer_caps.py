"""The route cap (`route_cap_24h`) and the per-transfer maximum on real PostgreSQL: requests
of one route are serialised by the route's lock, so concurrent requests cannot exceed the cap
together; what counts, for how long; retries and the send-time re-check."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core.clock import ManualClock
from core.enums import FundsLocation as L
from core.enums import TransferStatus as S
from db.models import Event, FundTransfer
from strategies.components.transfer_types import RouteCapExceededError, TransferStep
from tests.integration.transfers.conftest import run_until_final
from tests.integration.transfers.support import inline_manager, make_config, side_effect_counts

CAP = {"max_amount": "50000", "route_cap_24h": "100000"}


def _stored(engine: Engine) -> list[Decimal]:
    with Session(engine) as session:
        return list(session.scalars(select(FundTransfer.amount_usd)))


def _requested_events(engine: Engine) -> int:
    with Session(engine) as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Event).where(Event.kind == "transfer.requested")
            )
            or 0
        )


def _concurrent_requests(
    engine: Engine, clock: ManualClock, amounts: list[Decimal]
) -> tuple[list[Decimal], list[tuple[Decimal, str]]]:
    """Every amount requested at once on hyperliquid -> extended, each by its own manager (as
    separate workers would) and under its own dedupe key. (accepted, [(refused, message)])"""
    config = make_config(policy=CAP)
    start = threading.Barrier(len(amounts))
    accepted: list[Decimal] = []
    refused: list[tuple[Decimal, str]] = []
    errors: list[BaseException] = []

    def request(index: int, amount: Decimal) -> None:
        manager, _ = inline_manager(engine, clock, config)
        start.wait()
        try:
            result = manager.request_transfer(
                "hyperliquid", "extended", amount, dedupe_key=f"cap-{index}"
            )
            assert result.created
            accepted.append(amount)
        except RouteCapExceededError as exc:
            refused.append((amount, str(exc)))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=request, args=item) for item in enumerate(amounts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(accepted) + len(refused) == len(amounts)
    return accepted, refused


def test_concurrent_requests_cannot_exceed_the_route_cap_together(funded, clock):
    accepted, refused = _concurrent_requests(funded, clock, [Decimal(30_000)] * 8)
    # 8 x 30,000 asked for at once; the cap is 100,000: exactly three fit.
    assert accepted == [Decimal(30_000)] * 3
    assert sorted(_stored(funded)) == [Decimal(30_000)] * 3
    assert _requested_events(funded) == 3
    assert len(refused) == 5
    for _, message in refused:  # serialised: each refusal saw all three accepted
        assert "cap is 100000 USDC per rolling 24 h" in message
        assert "90000 USDC is used in the 24 h since 2026-03-01T00:00:00+00:00" in message
        assert "at most 10000 USDC more now" in message


def test_concurrent_requests_of_mixed_sizes_store_exactly_those_that_fit(funded, clock):
    amounts = [Decimal(n) for n in (45_000, 40_000, 35_000, 30_000, 25_000, 20_000, 15_000, 10)]
    accepted, refused = _concurrent_requests(funded, clock, amounts)
    stored = _stored(funded)
    assert sorted(stored) == sorted(accepted) and sum(stored) <= 100_000
    room = 100_000 - sum(stored)
    for amount, message in refused:
        used = Decimal(re.search(r"and (\d+) USDC is used", message).group(1))
        assert used + amount > 100_000 and used <= sum(stored)
        assert amount > room  # it would not fit even now


def test_a_refusal_names_the_cap_the_used_amount_and_the_window(build, funded):
    manager, dispatcher = build(policy=CAP)
    manager.request_transfer("hyperliquid", "extended", Decimal(50_000))
    manager.request_transfer("hyperliquid", "extended", Decimal(30_000), dedupe_key="second")
    with pytest.raises(RouteCapExceededError) as error:
        manager.request_transfer("hyperliquid", "extended", Decimal("20000.5"), dedupe_key="x")
    assert str(error.value) == (
        "transfer of 20000.5 USDC on hyperliquid/main->extended/main:USDC refused: the route's "
        "cap is 100000 USDC per rolling 24 h (routing.policy.route_cap_24h) and 80000 USDC is "
        "used in the 24 h since 2026-03-01T00:00:00+00:00; at most 20000 USDC more now"
    )
    assert len(_stored(funded)) == 2 and len(dispatcher.queue) == 2
    # Other routes have caps of their own.
    assert manager.request_transfer("hyperliquid", "lighter", Decimal(50_000)).created
    assert manager.request_transfer("extended", "hyperliquid", Decimal(50_000)).created


def test_the_window_rolls_on_the_clock_once_transfers_settle(build, clock):
    manager, dispatcher = build(policy=CAP)
    first = manager.request_transfer("hyperliquid", "extended", Decimal(50_000)).record.id
    second = manager.request_transfer(
        "hyperliquid", "extended", Decimal(50_000), dedupe_key="b"
    ).record.id
    run_until_final(manager, dispatcher, clock, [first, second])
    done = [manager.get(first), manager.get(second)]
    assert {d.status for d in done} == {S.COMPLETED}
    # Each counts until 24 h after its last change.
    clock.set(min(d.updated_at for d in done) + timedelta(hours=24) - timedelta(seconds=1))
    with pytest.raises(RouteCapExceededError, match="100000 USDC is used"):
        manager.request_transfer("hyperliquid", "extended", Decimal(10), dedupe_key="c")
    clock.set(max(d.updated_at for d in done) + timedelta(hours=24))
    assert manager.request_transfer("hyperliquid", "extended", Decimal(50_000)).created


def test_an_unsettled_transfer_counts_however_old_it_is(build, clock):
    manager, _ = build(policy=CAP)
    manager.request_transfer("hyperliquid", "extended", Decimal(50_000))
    clock.advance(timedelta(days=3))  # never started: the sweeper would still send it
    manager.request_transfer("hyperliquid", "extended", Decimal(50_000), dedupe_key="b")
    with pytest.raises(RouteCapExceededError, match="100000 USDC is used"):
        manager.request_transfer("hyperliquid", "extended", Decimal(10), dedupe_key="c")


def test_cancelled_and_failed_at_source_transfers_free_the_route_and_a_retry_rechecks(
    build, funded, clock
):
    manager, dispatcher = build(policy=CAP, faults={"withdrawal_failure_rate": 1.0})
    cancelled = manager.request_transfer("hyperliquid", "extended", Decimal(50_000)).record.id
    failing = manager.request_transfer(
        "hyperliquid", "extended", Decimal(50_000), dedupe_key="b"
    ).record.id
    manager.cancel(cancelled, "not needed")
    run_until_final(manager, dispatcher, clock, [failing])
    failed = manager.get(failing)
    assert (failed.status, failed.funds_location) == (S.FAILED, L.SOURCE)

    # Neither counts: the whole cap is free again.
    taken = manager.request_transfer("hyperliquid", "extended", Decimal(50_000), dedupe_key="c")
    manager.request_transfer("hyperliquid", "extended", Decimal(40_000), dedupe_key="d")
    # Retrying the failed one would make it count again: 90,000 + 50,000 does not fit.
    with pytest.raises(RouteCapExceededError, match="and 90000 USDC is used"):
        manager.retry(failing, "venue fixed")
    assert manager.get(failing).status is S.FAILED
    manager.cancel(taken.record.id)
    assert manager.retry(failing, "venue fixed").status is S.PENDING


def test_money_that_left_the_source_keeps_counting_when_the_transfer_fails(build, clock):
    manager, _ = build(policy=CAP)
    record = manager.request_transfer("hyperliquid", "lighter", Decimal(50_000)).record
    for _ in range(10):  # withdrawn to our arbitrum wallet; the bridge step is not run
        manager.advance(TransferStep.WITHDRAW, record.id)
        if manager.get(record.id).status is S.WITHDRAWN:
            break
        clock.advance(timedelta(seconds=10))
    assert manager.get(record.id).status is S.WITHDRAWN
    manager.give_up(TransferStep.BRIDGE, record.id, "every bridge down")
    failed = manager.get(record.id)
    assert (failed.status, failed.funds_location) == (S.FAILED, L.WALLET)
    manager.request_transfer("hyperliquid", "lighter", Decimal(50_000), dedupe_key="b")
    with pytest.raises(RouteCapExceededError, match="100000 USDC is used"):
        manager.request_transfer("hyperliquid", "lighter", Decimal(10), dedupe_key="c")


def test_the_withdraw_step_rechecks_the_amount_against_the_policy_it_runs_with(
    build, funded, clock
):
    manager, _ = build(policy=CAP)
    record = manager.request_transfer("hyperliquid", "extended", Decimal(20_000)).record
    lowered, _ = inline_manager(funded, clock, make_config(policy={**CAP, "max_amount": "10000"}))
    outcome = lowered.advance(TransferStep.WITHDRAW, record.id)
    assert outcome.action == "stop"
    stopped = lowered.get(record.id)
    assert (stopped.status, stopped.funds_location) == (S.FAILED, L.SOURCE)
    assert "at most 10000 USDC per transfer (routing.policy.max_amount)" in stopped.last_error
    assert side_effect_counts(funded, record.id)["withdrawals"] == 0

"""Transfers through the real paper venues and paper network (PostgreSQL), steps run in
this process on a manual clock: happy paths, fees, failures and where the money ends up."""

from datetime import timedelta
from decimal import Decimal

import pytest

from core.enums import FundsLocation as L
from core.enums import TransferStatus as S
from exchanges.bridges.paper_bridges import set_protocol_down
from strategies.components.transfer_types import (
    TransferStep,
    TransientTransferError,
)
from tests.integration.transfers.conftest import run_until_final
from tests.integration.transfers.support import (
    START_BALANCE,
    VENUE_CHAINS,
    figures,
    side_effect_counts,
)

TOTAL = START_BALANCE * len(VENUE_CHAINS)
ONE_OF_EACH_SAME_CHAIN = {"withdrawals": 1, "bridge_sends": 0, "chain_sends": 1, "deposits": 1}
ONE_OF_EACH = {"withdrawals": 1, "bridge_sends": 1, "chain_sends": 1, "deposits": 1}


def test_same_chain_transfer_completes_with_the_withdrawal_fee_accounted(build, clock, funded):
    manager, dispatcher = build(withdrawal_delay_s=60, confirm_s=30)
    request = manager.request_transfer("hyperliquid", "extended", Decimal(1000), reason="top up")
    run_until_final(manager, dispatcher, clock, [request.record.id])

    done = manager.get(request.record.id)
    assert done.status is S.COMPLETED and done.funds_location is L.DESTINATION
    assert done.withdrawal_fee == Decimal(1)  # hyperliquid's withdrawal fee
    assert (done.fee, done.bridge_fee, done.received) == (Decimal(1), Decimal(0), Decimal(999))
    assert done.bridge_ref is None
    assert side_effect_counts(funded, done.id) == ONE_OF_EACH_SAME_CHAIN
    after = figures(funded)
    assert after.total == TOTAL
    assert after.venue_balances == TOTAL - Decimal(1)
    assert after.withdrawal_fees == Decimal(1)


def test_cross_chain_transfer_bridges_and_accounts_every_fee(build, clock, funded):
    manager, dispatcher = build(withdrawal_delay_s=60, confirm_s=30, bridge_latency_s=120)
    request = manager.request_transfer("lighter", "paradex", Decimal(500))
    run_until_final(manager, dispatcher, clock, [request.record.id])

    done = manager.get(request.record.id)
    assert done.status is S.COMPLETED
    assert done.bridge_protocol == "fast_dear"  # the only protocol reaching starknet
    bridge_fee = Decimal("0.5") + Decimal(500) * Decimal("0.0004")
    assert done.bridge_fee == bridge_fee
    assert done.received == Decimal(500) - bridge_fee  # lighter charges no withdrawal fee
    assert side_effect_counts(funded, done.id) == ONE_OF_EACH
    after = figures(funded)
    assert (after.total, after.bridge_fees) == (TOTAL, bridge_fee)
    assert after.wallets == after.bridges_in_flight == after.deposits_in_flight == 0


def test_money_is_located_at_every_state_along_the_way(build, clock, funded):
    manager, dispatcher = build(withdrawal_delay_s=60, confirm_s=30, bridge_latency_s=120)
    transfer = manager.request_transfer("hyperliquid", "paradex", Decimal(2000)).record.id
    seen = {}
    for _ in range(60):
        dispatcher.drain(manager)
        record = manager.get(transfer)
        seen[(record.status, record.funds_location)] = figures(funded)
        if record.status is S.COMPLETED:
            break
        clock.advance(timedelta(seconds=10))
        manager.sweep()
    assert seen[(S.WITHDRAWING, L.IN_FLIGHT_WITHDRAWAL)].withdrawals_in_flight == Decimal(2000)
    assert seen[(S.BRIDGING, L.IN_FLIGHT_BRIDGE)].bridges_in_flight == Decimal(1999)
    assert seen[(S.DEPOSITING, L.IN_FLIGHT_DEPOSIT)].deposits_in_flight > 0
    assert all(f.total == TOTAL for f in seen.values())


def test_a_dropped_withdrawal_response_is_looked_up_not_sent_again(build, clock, funded):
    manager, dispatcher = build(faults={"drop_withdrawal_response_rate": 1.0})
    request = manager.request_transfer("hyperliquid", "extended", Decimal(1000))
    run_until_final(manager, dispatcher, clock, [request.record.id])

    done = manager.get(request.record.id)
    assert done.status is S.COMPLETED
    assert done.attempts == 2  # one withdrawal send, one deposit send: no resend
    assert side_effect_counts(funded, done.id) == ONE_OF_EACH_SAME_CHAIN
    assert figures(funded).total == TOTAL


def test_a_withdrawal_the_venue_fails_ends_failed_at_the_source_and_a_retry_completes(
    build, clock, funded
):
    failing, dispatcher = build(withdrawal_delay_s=60, faults={"withdrawal_failure_rate": 1.0})
    transfer = failing.request_transfer("hyperliquid", "extended", Decimal(1000)).record.id
    run_until_final(failing, dispatcher, clock, [transfer])
    failed = failing.get(transfer)
    assert (failed.status, failed.funds_location) == (S.FAILED, L.SOURCE)
    assert "refunded" in failed.last_error
    assert figures(funded).venue_balances == TOTAL  # the venue gave everything back

    healthy, dispatcher = build(withdrawal_delay_s=60)
    healthy.retry(transfer, note="venue fixed")
    dispatcher.queue.append((TransferStep.WITHDRAW, transfer))
    run_until_final(healthy, dispatcher, clock, [transfer])
    done = healthy.get(transfer)
    assert done.status is S.COMPLETED
    assert done.withdrawal_ref.endswith(":withdraw:2")  # a new key: the first one failed
    assert side_effect_counts(funded, transfer)["withdrawals"] == 1
    assert figures(funded).total == TOTAL


def test_a_failed_bridge_is_refunded_and_another_protocol_carries_the_transfer(
    build, clock, funded
):
    manager, dispatcher = build(bridge_latency_s=60, bridge_failure={"slow_cheap": 1.0})
    transfer = manager.request_transfer("hyperliquid", "lighter", Decimal(1000)).record.id
    run_until_final(manager, dispatcher, clock, [transfer])
    done = manager.get(transfer)
    assert done.status is S.COMPLETED
    assert done.bridge_protocol == "fast_dear"
    assert done.bridge_ref.endswith(":bridge:2")
    assert side_effect_counts(funded, transfer) == ONE_OF_EACH  # the failed one was refunded
    assert figures(funded).total == TOTAL


def test_bridges_failing_every_time_leave_the_money_in_our_wallet_and_say_so(build, clock, funded):
    manager, dispatcher = build(bridge_failure={"slow_cheap": 1.0, "fast_dear": 1.0})
    transfer = manager.request_transfer("hyperliquid", "lighter", Decimal(1000)).record.id
    run_until_final(manager, dispatcher, clock, [transfer])
    failed = manager.get(transfer)
    assert (failed.status, failed.funds_location, failed.funds_chain) == (
        S.FAILED,
        L.WALLET,
        "arbitrum",
    )
    assert failed.bridge_ref.endswith(":bridge:3")  # policy: three attempts
    money = figures(funded)
    assert money.wallets == Decimal(999) and money.total == TOTAL

    healthy, dispatcher = build()
    healthy.retry(transfer, note="bridges back")
    run_until_final(healthy, dispatcher, clock, [transfer])
    assert healthy.get(transfer).status is S.COMPLETED
    assert figures(funded).wallets == 0


def test_a_protocol_that_is_down_is_skipped(build, clock, funded):
    set_protocol_down(funded, clock, "slow_cheap", True, "maintenance")
    manager, dispatcher = build()
    transfer = manager.request_transfer("hyperliquid", "lighter", Decimal(1000)).record.id
    run_until_final(manager, dispatcher, clock, [transfer])
    assert manager.get(transfer).bridge_protocol == "fast_dear"


def test_with_every_protocol_down_the_bridge_step_retries_then_fails_at_the_wallet(
    build, clock, funded
):
    manager, dispatcher = build()
    transfer = manager.request_transfer("hyperliquid", "lighter", Decimal(1000)).record.id
    set_protocol_down(funded, clock, "slow_cheap", True)
    set_protocol_down(funded, clock, "fast_dear", True)
    dispatcher.drain(manager)
    assert manager.get(transfer).status is S.WITHDRAWN
    with pytest.raises(TransientTransferError, match="available right now"):
        manager.advance(TransferStep.BRIDGE, transfer)
    outcome = manager.give_up(TransferStep.BRIDGE, transfer, "no bridge for 30 minutes")
    failed = manager.get(transfer)
    assert outcome.action == "stop"
    assert (failed.status, failed.funds_location, failed.funds_chain) == (
        S.FAILED,
        L.WALLET,
        "arbitrum",
    )
    assert figures(funded).total == TOTAL


def test_a_duplicate_step_message_does_nothing(build, clock, funded):
    manager, dispatcher = build()
    transfer = manager.request_transfer("hyperliquid", "extended", Decimal(1000)).record.id
    run_until_final(manager, dispatcher, clock, [transfer])
    for step in TransferStep:
        assert manager.advance(step, transfer).action == "noop"
    assert side_effect_counts(funded, transfer) == ONE_OF_EACH_SAME_CHAIN


def test_the_same_need_does_not_create_a_second_transfer_while_one_is_in_flight(
    build, clock, funded
):
    manager, dispatcher = build()
    first = manager.request_transfer("hyperliquid", "extended", Decimal(1000), strategy_name="arb")
    again = manager.request_transfer("hyperliquid", "extended", Decimal(1500), strategy_name="arb")
    assert first.created and not again.created
    assert again.record.id == first.record.id
    run_until_final(manager, dispatcher, clock, [first.record.id])
    later = manager.request_transfer("hyperliquid", "extended", Decimal(1000), strategy_name="arb")
    assert later.created and later.record.id != first.record.id

"""Injected faults on the paper venue, and withdrawals/deposits."""

from datetime import timedelta
from decimal import Decimal

import pytest

from core.enums import MovementState, OrderSide, OrderStatus, OrderType
from exchanges.base import OrderRejectedError, OrderRequest, UnknownOutcomeError
from exchanges.paper import FaultConfig, PaperExchange, PaperVenueConfig
from tests.support.clocks import RecordingClock

from .conftest import flat_ticks, ledger_by_kind, ledger_sum

D = Decimal


def buy(cid, qty="0.01"):
    return OrderRequest(cid, "BTC", OrderSide.BUY, OrderType.MARKET, D(qty))


def test_timeout_after_fill_leaves_a_filled_order_that_lookup_finds(paper, store_market, clean_db):
    store_market(flat_ticks("hyperliquid", "BTC", [60_000]))
    venue = paper(faults=FaultConfig(timeout_after_fill_rate=1.0))
    with pytest.raises(UnknownOutcomeError, match="timed out"):
        venue.place_order(buy("t-1"))
    found = venue.get_order("BTC", "t-1")
    assert (
        found is not None and found.status is OrderStatus.FILLED and found.filled_qty == D("0.01")
    )
    # Resending the same intent returns the stored order and does not fault or trade again.
    assert venue.place_order(buy("t-1")) == found
    assert [p.qty for p in venue.positions()] == [D("0.01")]
    collateral, ledger = ledger_sum(clean_db, "hyperliquid")
    assert collateral == ledger


def test_fault_decisions_are_the_same_in_every_instance_and_depend_on_the_key(
    paper, store_market, clean_db, clock
):
    store_market(flat_ticks("hyperliquid", "BTC", [60_000]))
    faults = FaultConfig(seed=7, reject_rate=0.5)
    first = paper(faults=faults)
    outcomes = {}
    for i in range(20):
        try:
            first.place_order(buy(f"k-{i}"))
            outcomes[f"k-{i}"] = "ok"
        except OrderRejectedError:
            outcomes[f"k-{i}"] = "rejected"
    assert set(outcomes.values()) == {"ok", "rejected"}
    # A second process (same config) decides the same for each key, whatever ran before.
    other = PaperExchange(
        "hyperliquid", engine=clean_db, clock=clock, config=PaperVenueConfig(faults=faults)
    )
    for key in reversed(list(outcomes)):
        if outcomes[key] == "rejected":
            with pytest.raises(OrderRejectedError, match="injected"):
                other.place_order(buy(key))
        else:
            assert other.place_order(buy(key)).status is OrderStatus.FILLED


def test_latency_is_deterministic_and_bounded(paper, store_market, clean_db, clock):
    store_market(flat_ticks("hyperliquid", "BTC", [60_000]))
    recording = RecordingClock(clock.now())
    config = PaperVenueConfig(faults=FaultConfig(seed=3, max_latency_ms=40))
    venue = PaperExchange("hyperliquid", engine=clean_db, clock=recording, config=config)
    venue.credit_deposit("seed", "USDC", D(1_000), "arbitrum")
    venue.place_order(buy("lat-1"))
    venue.place_order(buy("lat-1"))
    slept = recording.waits  # on the venue's clock: a manual one moves on, nothing waits
    assert len(slept) == 2 and slept[0] == slept[1] and 0 < slept[0] <= 0.04


def test_withdrawal_debits_at_once_and_completes_after_the_delay(paper, clean_db, clock):
    venue = paper(deposit=1_000, withdrawal_delay_s=600)
    receipt = venue.withdraw("USDC", D(400), "0xabc", "arbitrum", "w-1")
    assert receipt.state is MovementState.PENDING and receipt.fee == D(1)
    assert venue.balance().available == D(600)
    assert venue.withdraw("USDC", D(400), "0xabc", "arbitrum", "w-1") == receipt  # same key
    clock.advance(timedelta(minutes=9))
    assert venue.get_withdrawal("w-1").state is MovementState.PENDING
    clock.advance(timedelta(minutes=1))
    done = venue.get_withdrawal("w-1")
    assert done.state is MovementState.COMPLETED and done.tx_hash.startswith("0x")
    assert ledger_by_kind(clean_db, "hyperliquid") == {
        "deposit": D(1_000),
        "withdrawal": D(-399),
        "withdrawal_fee": D(-1),
    }
    assert venue.get_withdrawal("never") is None


def test_withdrawal_refusals(paper):
    venue = paper(deposit=100)
    with pytest.raises(OrderRejectedError, match="exceeds the available balance"):
        venue.withdraw("USDC", D(101), "0xabc", "arbitrum", "w-big")
    with pytest.raises(OrderRejectedError, match="USDC collateral only"):
        venue.withdraw("ETH", D(1), "0xabc", "arbitrum", "w-eth")
    with pytest.raises(OrderRejectedError, match="does not cover the fee"):
        venue.withdraw("USDC", D("0.5"), "0xabc", "arbitrum", "w-dust")
    venue.withdraw("USDC", D(10), "0xabc", "arbitrum", "w-ok")
    with pytest.raises(OrderRejectedError, match="other terms"):
        venue.withdraw("USDC", D(20), "0xabc", "arbitrum", "w-ok")
    assert venue.balance().available == D(90)


def test_failed_withdrawal_is_refunded_when_it_would_have_completed(paper, clean_db, clock):
    venue = paper(deposit=1_000, faults=FaultConfig(withdrawal_failure_rate=1.0))
    venue.withdraw("USDC", D(300), "0xabc", "arbitrum", "w-fail")
    assert venue.balance().available == D(700)
    clock.advance(timedelta(minutes=5))
    failed = venue.get_withdrawal("w-fail")
    assert failed.state is MovementState.FAILED and "injected" in failed.detail
    assert venue.balance().available == D(1_000)
    collateral, ledger = ledger_sum(clean_db, "hyperliquid")
    assert collateral == ledger == D(1_000)


def test_dropped_withdrawal_response_is_found_by_its_key(paper):
    venue = paper(deposit=1_000, faults=FaultConfig(drop_withdrawal_response_rate=1.0))
    with pytest.raises(UnknownOutcomeError, match="look it up"):
        venue.withdraw("USDC", D(250), "0xabc", "arbitrum", "w-lost")
    found = venue.get_withdrawal("w-lost")
    assert found is not None and found.amount == D(250)
    # The retry with the same key is answered, and nothing is withdrawn twice.
    assert venue.withdraw("USDC", D(250), "0xabc", "arbitrum", "w-lost") == found
    assert venue.balance().available == D(750)


def test_deposits_are_credited_once_per_reference(paper, clean_db):
    venue = paper(deposit=None)
    address = venue.deposit_address("USDC", "arbitrum")
    assert (
        address
        == venue.deposit_address("USDC", "arbitrum")
        != venue.deposit_address("USDC", "base")
    )
    assert venue.get_deposit("tx-1") is None
    first = venue.credit_deposit("tx-1", "USDC", D(500), "arbitrum")
    again = venue.credit_deposit("tx-1", "USDC", D(500), "arbitrum")
    assert first == again and first.state is MovementState.COMPLETED and first.to_address == address
    assert venue.get_deposit("tx-1") == first
    assert venue.balance().total == D(500)
    assert ledger_sum(clean_db, "hyperliquid") == (D(500), D(500))

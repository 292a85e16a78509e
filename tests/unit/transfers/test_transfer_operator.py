"""What an operator's retry, resolve and cancel do to a transfer."""

from decimal import Decimal

import pytest

from core.enums import FundsLocation as L
from core.enums import TransferStatus as S
from strategies.components.transfer_types import (
    IllegalTransitionError,
    TransferRefusedError,
)
from strategies.implementations.funding_arbitrage.operations.transfer_operator import (
    cancelled,
    resolved,
    retried,
    retry_target,
)
from tests.unit.transfers.records import NOW, record


@pytest.mark.parametrize(
    ("location", "chain", "target"),
    [
        (L.SOURCE, None, S.PENDING),
        (L.WALLET, "arbitrum", S.WITHDRAWN),
        (L.WALLET, "ethereum", S.BRIDGED),
    ],
)
def test_a_failed_transfer_resumes_where_its_money_rests(location, chain, target):
    failed = record(status=S.FAILED, funds_location=location, funds_chain=chain)
    assert retry_target(failed) is target


def test_a_failed_transfer_with_money_in_flight_cannot_be_retried_only_resolved():
    failed = record(status=S.FAILED, funds_location=L.IN_FLIGHT_BRIDGE)
    with pytest.raises(TransferRefusedError, match=r"in_flight_bridge.*resolve it"):
        retry_target(failed)


def test_a_reconcile_retry_resumes_the_step_and_clears_the_doubt():
    stuck = record(status=S.NEEDS_RECONCILE, paused_status=S.WITHDRAWING, unconfirmed_sends=2)
    resumed = retried(stuck, "checked the venue: nothing was withdrawn", NOW)
    assert resumed.status is S.WITHDRAWING
    assert resumed.unconfirmed_sends == 0
    assert resumed.paused_status is None
    assert resumed.operator_note == "checked the venue: nothing was withdrawn"


def test_only_failed_or_reconcile_transfers_are_retried():
    with pytest.raises(TransferRefusedError, match="only failed or needs_reconcile"):
        retried(record(status=S.BRIDGING), None, NOW)


def test_resolve_completed_puts_the_money_at_the_destination():
    done = resolved(
        record(status=S.NEEDS_RECONCILE),
        "completed",
        "credited, tx 0xabc",
        NOW,
        received=Decimal(999),
    )
    assert (done.status, done.funds_location, done.received) == (
        S.COMPLETED,
        L.DESTINATION,
        Decimal(999),
    )


def test_resolve_failed_needs_a_known_location():
    with pytest.raises(TransferRefusedError, match="needs a location"):
        resolved(record(status=S.NEEDS_RECONCILE), "failed", "stuck on chain", NOW)
    with pytest.raises(TransferRefusedError, match="needs a location"):
        resolved(record(status=S.NEEDS_RECONCILE), "failed", "stuck", NOW, location=L.UNKNOWN)


def test_resolve_needs_a_note_and_a_known_outcome():
    with pytest.raises(TransferRefusedError, match="needs a note"):
        resolved(record(status=S.FAILED), "cancelled", "  ", NOW)
    with pytest.raises(TransferRefusedError, match="outcome must be one of"):
        resolved(record(status=S.FAILED), "lost", "note", NOW)


def test_resolving_a_moving_transfer_is_refused():
    with pytest.raises(TransferRefusedError, match="resolved by hand"):
        resolved(record(status=S.DEPOSITING), "completed", "note", NOW)


def test_a_failed_transfer_cannot_be_resolved_as_failed_again():
    with pytest.raises(IllegalTransitionError):
        resolved(record(status=S.FAILED), "failed", "note", NOW, location=L.WALLET)


def test_only_a_pending_transfer_can_be_cancelled():
    assert cancelled(record(), "not needed").status is S.CANCELLED
    with pytest.raises(TransferRefusedError, match="money may already be moving"):
        cancelled(record(status=S.WITHDRAWING), None)

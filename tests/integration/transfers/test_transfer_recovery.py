"""Refusals, crashes between intent and send, unknown outcomes, lost messages, operator
recovery — against real PostgreSQL and the paper venues."""

import threading
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.enums import FundsLocation as L
from core.enums import TransferStatus as S
from db.models import Event, FundTransfer
from strategies.components.sessions import engine_scope
from strategies.components.transfer_store import PostgresTransferStore
from strategies.components.transfers import TransfersConfig
from strategies.implementations.funding_arbitrage.operations.transfer_states import (
    step_key,
    transition,
)
from strategies.implementations.funding_arbitrage.operations.transfer_types import (
    DestinationNotAllowedError,
    IllegalTransitionError,
    TransferRefusedError,
    TransferStep,
    TransientTransferError,
)
from tests.integration.transfers.conftest import run_until_final
from tests.integration.transfers.support import (
    START_BALANCE,
    VENUE_CHAINS,
    config_dict,
    figures,
    inline_manager,
    side_effect_counts,
)

TOTAL = START_BALANCE * len(VENUE_CHAINS)


def _crash_after_intent(engine, transfer_id, clock):
    """Write the withdraw intent exactly as the step does, then 'die' before sending."""
    store = PostgresTransferStore(engine_scope(engine), clock)
    with store.locked(transfer_id) as unit:
        record = unit.record
        intent = transition(
            record,
            S.WITHDRAWING,
            withdrawal_ref=step_key(record.id, TransferStep.WITHDRAW, None),
            unconfirmed_sends=1,
            attempts=1,
        )
        unit.save(intent, "transfer.withdrawing")


def _transfer_count(engine):
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(FundTransfer))


def test_a_destination_off_the_allowlist_is_refused_and_nothing_is_stored(funded, clock):
    raw = config_dict()
    raw["routing"]["allowlist"] = [
        e for e in raw["routing"]["allowlist"] if e.get("venue") != "lighter"
    ]
    manager, _ = inline_manager(funded, clock, TransfersConfig.model_validate(raw))
    with pytest.raises(DestinationNotAllowedError) as error:
        manager.request_transfer("hyperliquid", "lighter", Decimal(1000))
    assert "not on the transfer allowlist" in str(error.value)
    assert "chain ethereum" in str(error.value)
    assert _transfer_count(funded) == 0


def test_an_unknown_venue_or_a_bad_amount_is_refused_before_anything_is_stored(build):
    manager, _ = build()
    with pytest.raises(Exception, match="'aster' has no transfer route"):
        manager.request_transfer("hyperliquid", "aster", Decimal(1000))
    with pytest.raises(TransferRefusedError, match="at least 10"):
        manager.request_transfer("hyperliquid", "lighter", Decimal(5))
    with pytest.raises(TransferRefusedError, match="to itself"):
        manager.request_transfer("hyperliquid", "hyperliquid", Decimal(50))


def test_a_changed_deposit_address_is_refused_and_the_money_waits_in_our_wallet(
    build, funded, clock
):
    manager, dispatcher = build()
    transfer = manager.request_transfer("hyperliquid", "extended", Decimal(1000)).record.id
    with funded.begin() as connection:  # as if the venue's answer differed from the request's
        connection.execute(
            update(FundTransfer)
            .where(FundTransfer.id == transfer)
            .values(destination_address="0xbad")
        )
    run_until_final(manager, dispatcher, clock, [transfer])
    failed = manager.get(transfer)
    assert (failed.status, failed.funds_location, failed.funds_chain) == (
        S.FAILED,
        L.WALLET,
        "arbitrum",
    )
    assert "refusing to send" in failed.last_error
    assert figures(funded).wallets == Decimal(999)
    assert side_effect_counts(funded, transfer)["chain_sends"] == 0


def test_a_crash_after_the_intent_on_a_venue_without_key_guarantee_needs_reconcile(funded, clock):
    raw = config_dict()
    raw["routing"]["venues"]["hyperliquid"]["idempotent_withdrawals"] = False
    manager, dispatcher = inline_manager(funded, clock, TransfersConfig.model_validate(raw))
    transfer = manager.request_transfer("hyperliquid", "extended", Decimal(1000)).record.id
    dispatcher.queue.clear()
    _crash_after_intent(funded, transfer, clock)

    outcome = manager.advance(TransferStep.WITHDRAW, transfer)
    stuck = manager.get(transfer)
    assert outcome.action == "stop"
    assert (stuck.status, stuck.paused_status) == (S.NEEDS_RECONCILE, S.WITHDRAWING)
    assert stuck.funds_location is L.SOURCE  # last confirmed location
    assert "check it by hand" in stuck.last_error
    assert side_effect_counts(funded, transfer)["withdrawals"] == 0  # nothing was re-sent

    manager.retry(transfer, note="checked hyperliquid: no withdrawal with this key")
    run_until_final(manager, dispatcher, clock, [transfer])
    done = manager.get(transfer)
    assert done.status is S.COMPLETED
    assert done.withdrawal_ref.endswith(":withdraw:1")  # the same key was sent
    assert side_effect_counts(funded, transfer)["withdrawals"] == 1


def test_a_crash_after_the_intent_on_a_keyed_venue_looks_up_then_sends_under_the_same_key(
    build, funded, clock
):
    manager, dispatcher = build()
    transfer = manager.request_transfer("hyperliquid", "extended", Decimal(1000)).record.id
    dispatcher.queue.clear()
    _crash_after_intent(funded, transfer, clock)
    run_until_final(manager, dispatcher, clock, [transfer])  # the sweeper finds it
    done = manager.get(transfer)
    assert done.status is S.COMPLETED
    assert done.withdrawal_ref.endswith(":withdraw:1")
    assert side_effect_counts(funded, transfer) == {
        "withdrawals": 1,
        "bridge_sends": 0,
        "chain_sends": 1,
        "deposits": 1,
    }


def test_repeated_unknown_outcomes_stop_at_needs_reconcile(build, funded, clock):
    manager, dispatcher = build(policy={"max_unconfirmed_sends": 2})
    transfer = manager.request_transfer("hyperliquid", "extended", Decimal(1000)).record.id
    dispatcher.queue.clear()
    _crash_after_intent(funded, transfer, clock)
    with funded.begin() as connection:  # a second send also died before the venue saw it
        connection.execute(
            update(FundTransfer).where(FundTransfer.id == transfer).values(unconfirmed_sends=2)
        )
    manager.advance(TransferStep.WITHDRAW, transfer)
    stuck = manager.get(transfer)
    assert stuck.status is S.NEEDS_RECONCILE
    assert "sent 2 times" in stuck.last_error


def test_the_sweeper_resumes_a_transfer_whose_message_was_lost(build, funded, clock):
    manager, dispatcher = build()
    transfer = manager.request_transfer("hyperliquid", "lighter", Decimal(1000)).record.id
    dispatcher.queue.clear()  # the broker lost the first step's message
    assert manager.sweep() == []  # not stuck yet
    clock.advance(timedelta(seconds=31))  # past stuck_seconds
    assert manager.sweep() == [(transfer, TransferStep.WITHDRAW)]
    assert manager.sweep() == []  # claimed: not dispatched twice
    run_until_final(manager, dispatcher, clock, [transfer])
    assert manager.get(transfer).status is S.COMPLETED


def test_two_runs_of_one_step_at_once_make_one_withdrawal(build, funded, clock):
    manager, dispatcher = build(withdrawal_delay_s=60)
    transfer = manager.request_transfer("hyperliquid", "extended", Decimal(1000)).record.id
    dispatcher.queue.clear()
    errors = []

    def run():
        try:
            manager.advance(TransferStep.WITHDRAW, transfer)
        except Exception as exc:  # a lost race may surface as a transient conflict
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(e, TransientTransferError) for e in errors), errors
    run_until_final(manager, dispatcher, clock, [transfer])
    assert side_effect_counts(funded, transfer)["withdrawals"] == 1
    assert manager.get(transfer).status is S.COMPLETED


def test_giving_up_with_nothing_sent_fails_at_the_source(build, funded):
    manager, dispatcher = build(transient={"withdraw": 100})
    transfer = manager.request_transfer("hyperliquid", "extended", Decimal(1000)).record.id
    dispatcher.queue.clear()
    for _ in range(3):
        with pytest.raises(TransientTransferError, match="injected transient failure"):
            manager.advance(TransferStep.WITHDRAW, transfer)
    assert manager.get(transfer).unconfirmed_sends == 0  # each failure did nothing
    manager.give_up(TransferStep.WITHDRAW, transfer, "venue unreachable")
    failed = manager.get(transfer)
    assert (failed.status, failed.funds_location) == (S.FAILED, L.SOURCE)
    assert figures(funded).venue_balances == TOTAL


def test_the_store_refuses_an_illegal_transition_and_leaves_the_row(build, funded, clock):
    manager, _ = build()
    transfer = manager.request_transfer("hyperliquid", "extended", Decimal(1000)).record.id
    store = PostgresTransferStore(engine_scope(funded), clock)
    refused = pytest.raises(IllegalTransitionError, match="cannot go from pending to completed")
    with refused, store.locked(transfer) as unit:
        unit.save(replace(unit.record, status=S.COMPLETED), "transfer.completed")
    assert manager.get(transfer).status is S.PENDING


def test_the_database_refuses_a_completed_transfer_not_at_its_destination(build, funded):
    manager, _ = build()
    transfer = manager.request_transfer("hyperliquid", "extended", Decimal(1000)).record.id
    refused = pytest.raises(IntegrityError, match="completed_at_destination")
    with refused, funded.begin() as connection:
        connection.execute(
            text("UPDATE fund_transfers SET status = 'completed' WHERE id = :id"),
            {"id": transfer},
        )


def test_every_change_leaves_an_audit_event(build, funded, clock):
    manager, dispatcher = build()
    transfer = manager.request_transfer("hyperliquid", "lighter", Decimal(1000)).record.id
    run_until_final(manager, dispatcher, clock, [transfer])
    with Session(funded) as session:
        kinds = session.scalars(
            select(Event.kind).where(Event.entity_id == str(transfer)).order_by(Event.id)
        ).all()
    assert kinds[0] == "transfer.requested" and kinds[-1] == "transfer.completed"
    for needed in (
        "transfer.withdrawing",
        "transfer.withdrawn",
        "transfer.bridging",
        "transfer.bridged",
        "transfer.depositing",
    ):
        assert needed in kinds


def test_cancel_and_resolve(build, funded, clock):
    manager, _ = build()
    pending = manager.request_transfer("hyperliquid", "extended", Decimal(1000)).record.id
    assert manager.cancel(pending, "not needed").status is S.CANCELLED
    with pytest.raises(TransferRefusedError, match="only a pending transfer"):
        manager.cancel(pending)

    raw = config_dict()
    raw["routing"]["venues"]["lighter"]["idempotent_withdrawals"] = False
    strict, _ = inline_manager(funded, clock, TransfersConfig.model_validate(raw))
    stuck = strict.request_transfer("lighter", "hyperliquid", Decimal(100)).record.id
    _crash_after_intent(funded, stuck, clock)
    strict.advance(TransferStep.WITHDRAW, stuck)
    resolved = strict.resolve(stuck, "cancelled", "lighter has no such withdrawal")
    assert (resolved.status, resolved.funds_location) == (S.CANCELLED, L.SOURCE)
    assert resolved.operator_note == "lighter has no such withdrawal"

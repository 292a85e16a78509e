"""The transition table, the step each status calls for, and step keys."""

import pytest

from core.enums import TransferStatus as S
from strategies.components.transfer_states import (
    ACTIVE_STATUSES,
    TRANSITIONS,
    key_attempt,
    step_for,
    step_key,
    transition,
)
from strategies.components.transfer_types import (
    IllegalTransitionError,
    TransferStep,
)
from tests.unit.transfers.records import record

HAPPY_CROSS_CHAIN = [
    S.PENDING,
    S.WITHDRAWING,
    S.WITHDRAWN,
    S.BRIDGING,
    S.BRIDGED,
    S.DEPOSITING,
    S.COMPLETED,
]


def test_every_status_has_a_row_in_the_table():
    assert set(TRANSITIONS) == set(S)


def test_the_happy_path_is_allowed_step_by_step():
    current = record()
    for status in HAPPY_CROSS_CHAIN[1:]:
        current = transition(current, status)
    assert current.status is S.COMPLETED


def test_same_chain_skips_the_bridge_leg():
    withdrawn = record(status=S.WITHDRAWN, to_chain="arbitrum")
    assert transition(withdrawn, S.DEPOSITING).status is S.DEPOSITING


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (S.PENDING, S.COMPLETED),
        (S.PENDING, S.DEPOSITING),
        (S.WITHDRAWING, S.BRIDGING),
        (S.WITHDRAWN, S.PENDING),
        (S.BRIDGED, S.BRIDGING),
        (S.COMPLETED, S.FAILED),
        (S.CANCELLED, S.PENDING),
        (S.FAILED, S.FAILED),
        (S.DEPOSITING, S.CANCELLED),
    ],
)
def test_an_illegal_transition_is_refused_with_a_clear_message(start, target):
    with pytest.raises(IllegalTransitionError) as error:
        transition(record(status=start), target)
    message = str(error.value)
    assert f"cannot go from {start.value} to {target.value}" in message
    assert "allowed from" in message
    assert str(record().id) in message


def test_completed_and_cancelled_are_final():
    assert TRANSITIONS[S.COMPLETED] == frozenset()
    assert TRANSITIONS[S.CANCELLED] == frozenset()


def test_money_that_left_the_source_can_never_be_cancelled_by_the_automation():
    for status in (S.WITHDRAWING, S.WITHDRAWN, S.BRIDGING, S.BRIDGED, S.DEPOSITING):
        assert S.CANCELLED not in TRANSITIONS[status]


@pytest.mark.parametrize(
    ("status", "to_chain", "step"),
    [
        (S.PENDING, "ethereum", TransferStep.WITHDRAW),
        (S.WITHDRAWING, "ethereum", TransferStep.WITHDRAW),
        (S.WITHDRAWN, "ethereum", TransferStep.BRIDGE),
        (S.WITHDRAWN, "arbitrum", TransferStep.DEPOSIT),
        (S.BRIDGING, "ethereum", TransferStep.BRIDGE),
        (S.BRIDGED, "ethereum", TransferStep.DEPOSIT),
        (S.DEPOSITING, "ethereum", TransferStep.DEPOSIT),
        (S.COMPLETED, "ethereum", None),
        (S.FAILED, "ethereum", None),
        (S.NEEDS_RECONCILE, "ethereum", None),
    ],
)
def test_each_status_calls_for_one_step(status, to_chain, step):
    assert step_for(record(status=status, to_chain=to_chain)) is step


def test_active_statuses_are_exactly_those_with_a_step():
    active = {s for s in S if step_for(record(status=s)) is not None}
    assert active == set(ACTIVE_STATUSES)


def test_step_keys_name_the_transfer_the_step_and_the_attempt():
    transfer = record().id
    first = step_key(transfer, TransferStep.WITHDRAW, None)
    assert first == f"{transfer}:withdraw:1"
    assert step_key(transfer, TransferStep.WITHDRAW, first) == f"{transfer}:withdraw:2"
    assert key_attempt(f"{transfer}:bridge:3") == 3


def test_a_key_of_another_step_cannot_be_continued():
    transfer = record().id
    with pytest.raises(ValueError, match="is not a deposit key"):
        step_key(transfer, TransferStep.DEPOSIT, f"{transfer}:withdraw:1")

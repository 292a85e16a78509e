"""Grid state round trips, corrupt state is refused by name, client ids parse back."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from core.clock import ManualClock
from strategies.components.state_manager import InMemoryStateManager
from strategies.implementations.grid.accounting import realize
from strategies.implementations.grid.models import (
    GridDirection,
    GridLevel,
    GridOrderId,
    GridState,
    GridStateError,
    GridTotals,
    LevelStage,
    OrderKind,
    grid_client_order_id,
    parse_client_order_id,
)
from tests.unit.grid.helpers import NAME, NOW


def _state() -> GridState:
    level = GridLevel(
        7,
        LevelStage.CLOSING,
        Decimal("2999.70"),
        Decimal("0.1"),
        NOW,
        qty=Decimal("0.1"),
        entry_price=Decimal("2999.70"),
        open_fee=Decimal("0.0449955"),
        tp_price=Decimal("3029.70"),
        tp_attempt=2,
    )
    return replace(
        GridState.fresh(NAME, GridDirection.LONG, NOW),
        levels=(level,),
        next_seq=8,
        last_open_at=NOW,
        totals=GridTotals(Decimal("1.5"), Decimal("0.25"), 3, Decimal("0.3")),
    )


def test_the_state_survives_the_state_manager_exactly():
    manager = InMemoryStateManager(ManualClock(NOW))
    manager.save(NAME, _state().to_state(), 0)
    assert GridState.from_state(manager.load(NAME).data) == _state()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d.pop("run_id"), "grid state.run_id: missing"),
        (lambda d: d.update(next_seq="8"), "grid state.next_seq: expected int, got str"),
        (lambda d: d.update(next_seq=True), "grid state.next_seq: expected int, got bool"),
        (lambda d: d["levels"][0].pop("qty"), r"grid state.levels\[0\].qty: missing"),
        (lambda d: d.update(status="resting"), "'resting' is not a valid GridStatus"),
        (lambda d: d.update(totals=[]), "grid state.totals: expected dict, got list"),
    ],
)
def test_corrupt_state_is_refused_with_the_bad_key(damage, message):
    data = _state().to_state()
    damage(data)
    with pytest.raises(GridStateError, match=message):
        GridState.from_state(data)


def test_client_ids_name_run_level_purpose_and_attempt():
    cid = grid_client_order_id("1f0c2a9b7d3e", OrderKind.TAKE_PROFIT, 17, 3)
    assert cid == "grid-1f0c2a9b7d3e-17-t3"
    assert parse_client_order_id(cid) == GridOrderId("1f0c2a9b7d3e", 17, OrderKind.TAKE_PROFIT, 3)
    assert len(cid) <= 64
    for foreign in ("manual-close", "grid-x-1-q0", "grid-x-y-o0", "grid-x-1-o", "a-b-c-d"):
        assert parse_client_order_id(foreign) is None


def test_tracked_ids_are_the_orders_the_state_waits_on():
    state = _state()
    assert state.tracked_ids() == [f"grid-{state.run_id}-7-t2"]
    closing = replace(state, closing=True, close_attempt=1)
    assert closing.tracked_ids()[-1] == f"grid-{state.run_id}-0-x1"


def test_realize_is_direction_aware_and_charges_the_open_fee_pro_rata():
    level = GridLevel(
        1,
        LevelStage.CLOSING,
        Decimal("3000.30"),
        Decimal("0.3"),
        NOW,
        qty=Decimal("0.3"),
        entry_price=Decimal("3000.30"),
        open_fee=Decimal("0.9"),
    )
    left, done = realize(level, Decimal("0.1"), Decimal("2970.29"), Decimal("0.05"), sign=-1)
    assert done.gross == Decimal("3.001")  # (2970.29 - 3000.30) * 0.1 * -1
    assert done.fees == Decimal("0.35")  # a third of the open fee, plus the close fee
    assert done.net == Decimal("2.651")
    assert left is not None and (left.qty, left.open_fee) == (Decimal("0.2"), Decimal("0.6"))
    with pytest.raises(ValueError, match="cannot close"):
        realize(level, Decimal("0.4"), Decimal("2970"), Decimal(0), sign=-1)

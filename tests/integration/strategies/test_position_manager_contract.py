"""One contract, two backends: PostgresPositionManager and InMemoryPositionManager."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from core.enums import PositionOperation, PositionStatus
from core.errors import ConcurrencyConflictError
from strategies.components.base_components import (
    ALLOWED_POSITION_TRANSITIONS,
    ActivePositionExistsError,
    InvalidPositionError,
    NewPosition,
    PositionManager,
    PositionNotFoundError,
    PositionTransitionError,
    PositionUpdate,
)
from strategies.components.position_manager import PostgresPositionManager
from strategies.components.sessions import engine_scope
from tests.unit.strategies.fakes import T0

S = PositionStatus
OP = PositionOperation


def hedge(symbol: str = "BTC", strategy: str = "arb", **kw: object) -> NewPosition:
    values: dict[str, object] = {
        "strategy_name": strategy,
        "symbol": symbol,
        "long_dex": "lighter",
        "short_dex": "paradex",
        "size_usd": Decimal("1000"),
        "entry_divergence": Decimal("0.0000125"),
    }
    values.update(kw)
    return NewPosition(**values)  # type: ignore[arg-type]


def test_open_records_a_new_position_with_zeroed_money(position_manager, clock):
    record = position_manager.open(hedge())
    assert record.status == S.OPENING and record.is_active
    assert record.version == 1
    assert record.created_at == record.updated_at == T0
    assert record.opened_at is None and record.closed_at is None
    assert record.size_usd == Decimal("1000") and str(record.size_usd) == "1000.000000000000000000"
    assert record.entry_divergence == Decimal("0.0000125")
    for money in (record.long_qty, record.fees_usd, record.realized_pnl_usd, record.funding_usd):
        assert money == 0 and isinstance(money, Decimal)
    assert position_manager.get(record.id) == record
    (opened,) = position_manager.history(record.id)
    assert opened.kind == "position.opened"
    assert opened.strategy_name == "arb" and opened.entity_id == str(record.id)
    assert opened.payload["size_usd"] == "1000.000000000000000000"
    assert opened.payload["version"] == 1 and opened.occurred_at == T0


def test_opening_directly_as_open_sets_opened_at(position_manager):
    record = position_manager.open(hedge(status=S.OPEN))
    assert record.status == S.OPEN and record.opened_at == T0


def test_unknown_ids(position_manager):
    missing = uuid.uuid4()
    assert position_manager.get(missing) is None
    with pytest.raises(PositionNotFoundError, match=f"no position with id {missing}"):
        position_manager.update(missing, PositionUpdate(fees_usd=Decimal(1)))
    with pytest.raises(PositionNotFoundError):
        position_manager.close(missing, "x", Decimal(0))
    assert position_manager.history(missing) == []


def test_one_active_position_per_strategy_symbol_and_venue_pair(position_manager):
    first = position_manager.open(hedge())
    with pytest.raises(ActivePositionExistsError) as err:
        position_manager.open(hedge(size_usd=Decimal(5)))
    assert err.value.existing_id == first.id
    assert str(first.id) in str(err.value)
    # Another symbol, strategy or venue pair is another position.
    position_manager.open(hedge(symbol="ETH"))
    position_manager.open(hedge(strategy="arb-2"))
    position_manager.open(hedge(short_dex="aster"))
    # Once the first is finished, the pair is free again.
    position_manager.mark_status(first.id, S.OPEN)
    position_manager.close(first.id, "done", Decimal(3))
    assert position_manager.open(hedge()).id != first.id


def test_single_leg_positions_are_unique_too(position_manager):
    grid = NewPosition("grid-1", "BTC", "hyperliquid", None, Decimal(200))
    position_manager.open(grid)
    with pytest.raises(ActivePositionExistsError):
        position_manager.open(grid)
    position_manager.open(NewPosition("grid-1", "BTC", None, "hyperliquid", Decimal(200)))


@pytest.mark.parametrize(
    ("position", "message"),
    [
        (hedge(long_dex=None, short_dex=None), "needs at least one leg"),
        (hedge(short_dex="lighter"), "both legs on 'lighter'"),
        (hedge(size_usd=Decimal(-1)), "size_usd: must be >= 0"),
        (hedge(size_usd=1000.0), "size_usd: expected a Decimal, got float"),
        (hedge(size_usd=Decimal("1e20")), "size_usd: 1E[+]20 is out of range"),
        (hedge(size_usd=Decimal("NaN")), "size_usd: NaN is out of range"),
        (hedge(symbol="X" * 21), "symbol: 'X{21}' is longer than 20"),
        (hedge(strategy=""), "strategy_name: must be a non-empty string"),
        (hedge(long_dex=" "), "long_dex: must be a non-empty string"),
        (hedge(status=S.CLOSED), "status: a new position is opening or open"),
    ],
)
def test_invalid_positions_are_refused_and_nothing_is_written(position_manager, position, message):
    with pytest.raises(InvalidPositionError, match=message):
        position_manager.open(position)
    assert position_manager.find() == []


def test_update_changes_fields_bumps_version_and_audits(position_manager, clock):
    record = position_manager.open(hedge())
    clock.advance(timedelta(minutes=1))
    changes = PositionUpdate(
        long_qty=Decimal("0.01"),
        short_qty=Decimal("0.01"),
        long_entry_price=Decimal("99000.5"),
        short_entry_price=Decimal("99010"),
        current_divergence=Decimal("0.00001"),
        long_funding_usd=Decimal("-0.12"),
        short_funding_usd=Decimal("0.57"),
        fees_usd=Decimal("0.9"),
        unrealized_pnl_usd=Decimal("-1.25"),
        last_monitored_at=T0 + timedelta(minutes=1),
    )
    updated = position_manager.update(record.id, changes, expected_version=1)
    assert updated.version == 2 and updated.updated_at == T0 + timedelta(minutes=1)
    assert updated.funding_usd == Decimal("0.45")
    assert updated.long_entry_price == Decimal("99000.5")
    assert updated.last_monitored_at == T0 + timedelta(minutes=1)
    assert updated.created_at == T0
    assert position_manager.get(record.id) == updated
    kinds = [e.kind for e in position_manager.history(record.id)]
    assert kinds == ["position.opened", "position.updated"]
    audited = position_manager.history(record.id)[-1].payload
    assert audited["changes"]["fees_usd"] == "0.900000000000000000"
    assert audited["version"] == 2


def test_money_is_rounded_to_the_columns_scale_half_away_from_zero(position_manager):
    record = position_manager.open(hedge())
    changes = PositionUpdate(
        fees_usd=Decimal("0.0000000000000000005"),
        unrealized_pnl_usd=Decimal("-0.0000000000000000005"),
        long_funding_usd=Decimal("-0.0000000000000000004"),
    )
    updated = position_manager.update(record.id, changes)
    assert str(updated.fees_usd) == "1E-18"
    assert str(updated.unrealized_pnl_usd) == "-1E-18"
    assert str(updated.long_funding_usd) == "0E-18"  # no negative zero
    assert position_manager.get(record.id) == updated


def test_an_update_that_changes_nothing_is_a_no_op(position_manager):
    record = position_manager.open(hedge())
    same = position_manager.update(record.id, PositionUpdate(size_usd=Decimal("1000.0")))
    assert same == record
    assert len(position_manager.history(record.id)) == 1


def test_a_stale_expected_version_is_refused(position_manager):
    record = position_manager.open(hedge())
    position_manager.update(record.id, PositionUpdate(fees_usd=Decimal(1)))
    with pytest.raises(ConcurrencyConflictError, match="expected version 1, found 2"):
        position_manager.update(record.id, PositionUpdate(fees_usd=Decimal(2)), expected_version=1)
    with pytest.raises(ConcurrencyConflictError):
        position_manager.mark_status(record.id, S.OPEN, expected_version=1)
    assert position_manager.get(record.id).fees_usd == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (PositionUpdate(long_qty=Decimal(-1)), "long_qty: must be >= 0"),
        (PositionUpdate(short_entry_price=Decimal(0)), "short_entry_price: must be > 0"),
        (PositionUpdate(fees_usd=0.1), "fees_usd: expected a Decimal, got float"),  # type: ignore[arg-type]
        (PositionUpdate(last_monitored_at="now"), "last_monitored_at: expected a datetime"),  # type: ignore[arg-type]
    ],
)
def test_invalid_updates_are_refused(position_manager, changes, message):
    record = position_manager.open(hedge())
    with pytest.raises(InvalidPositionError, match=message):
        position_manager.update(record.id, changes)
    assert position_manager.get(record.id) == record


def test_close_records_reason_pnl_and_time_then_the_position_is_final(position_manager, clock):
    record = position_manager.open(hedge(status=S.OPEN))
    position_manager.update(record.id, PositionUpdate(unrealized_pnl_usd=Decimal("4.2")))
    clock.advance(timedelta(hours=3))
    closed = position_manager.close(record.id, "profit_erosion", Decimal("3.75"))
    assert closed.status == S.CLOSED and not closed.is_active
    assert closed.closed_at == T0 + timedelta(hours=3)
    assert closed.close_reason == "profit_erosion"
    assert closed.realized_pnl_usd == Decimal("3.75") and closed.unrealized_pnl_usd == 0
    assert closed.opened_at == T0

    # A retried close is harmless: the first close stands.
    again = position_manager.close(record.id, "other", Decimal(99))
    assert again == closed
    with pytest.raises(PositionTransitionError, match="finished position cannot change"):
        position_manager.update(record.id, PositionUpdate(fees_usd=Decimal(1)))
    with pytest.raises(PositionTransitionError, match="closed -> open is not allowed"):
        position_manager.mark_status(record.id, S.OPEN)
    history = position_manager.history(record.id)
    assert [e.kind for e in history] == ["position.opened", "position.updated", "position.closed"]
    assert history[-1].payload["realized_pnl_usd"] == "3.750000000000000000"
    assert history[-1].payload["reason"] == "profit_erosion"


def test_status_changes_and_their_rules(position_manager, clock):
    record = position_manager.open(hedge())
    clock.advance(timedelta(seconds=30))
    opened = position_manager.mark_status(record.id, S.OPEN)
    assert opened.opened_at == T0 + timedelta(seconds=30) and opened.version == 2
    assert position_manager.mark_status(record.id, S.OPEN) == opened  # repeat: no-op
    with pytest.raises(PositionTransitionError, match="use close"):
        position_manager.mark_status(record.id, S.CLOSED)
    with pytest.raises(InvalidPositionError, match="reason: required"):
        position_manager.mark_status(record.id, S.NEEDS_RECONCILE)
    flagged = position_manager.mark_status(record.id, S.NEEDS_RECONCILE, reason="short leg unknown")
    assert flagged.status == S.NEEDS_RECONCILE and flagged.close_reason is None
    event = position_manager.history(record.id)[-1]
    assert event.kind == "position.status_changed"
    assert (event.payload["from"], event.payload["to"]) == ("open", "needs_reconcile")
    assert event.payload["reason"] == "short leg unknown"
    with pytest.raises(InvalidPositionError, match="reason: required"):
        position_manager.close(record.id, " ", Decimal(0))


def test_a_failed_open_is_final_with_its_reason(position_manager, clock):
    record = position_manager.open(hedge())
    failed = position_manager.mark_status(record.id, S.FAILED, reason="long leg rejected")
    assert failed.closed_at == T0 and failed.close_reason == "long leg rejected"
    assert not failed.is_active
    with pytest.raises(PositionTransitionError, match="from failed: none"):
        position_manager.mark_status(record.id, S.OPENING)


def test_an_unfinished_position_says_what_it_is_in_the_middle_of_and_why(position_manager):
    record = position_manager.open(hedge())
    assert (record.operation, record.operation_reason) == (OP.OPEN, None)
    assert position_manager.mark_status(record.id, S.OPEN).operation is None
    closing = position_manager.mark_status(record.id, S.CLOSING, "divergence flipped")
    assert (closing.operation, closing.operation_reason) == (OP.CLOSE, "divergence flipped")
    assert position_manager.history(record.id)[-1].payload["operation"] == "close"
    # A close in doubt keeps the reason it is to be finished with.
    doubt = position_manager.mark_status(record.id, S.NEEDS_RECONCILE, "close: venue down")
    assert (doubt.operation, doubt.operation_reason) == (OP.CLOSE, "divergence flipped")
    back = position_manager.mark_status(record.id, S.OPEN)
    assert (back.operation, back.operation_reason) == (None, None)
    reduce = position_manager.mark_status(
        record.id, S.NEEDS_RECONCILE, "reduce: incomplete", operation=OP.REDUCE
    )
    assert (reduce.operation, reduce.operation_reason) == (OP.REDUCE, "reduce: incomplete")
    assert position_manager.get(record.id) == reduce
    position_manager.mark_status(record.id, S.OPEN)
    mismatch = position_manager.mark_status(record.id, S.NEEDS_RECONCILE, "monitor: short gone")
    assert (mismatch.operation, mismatch.operation_reason) == (OP.RECONCILE, "monitor: short gone")
    failed = position_manager.mark_status(record.id, S.FAILED, "unwound")
    assert (failed.operation, failed.operation_reason) == (None, None)


def test_an_open_in_doubt_records_why(position_manager):
    record = position_manager.open(hedge())
    doubt = position_manager.mark_status(record.id, S.NEEDS_RECONCILE, "open: outcome unknown")
    assert (doubt.operation, doubt.operation_reason) == (OP.OPEN, "open: outcome unknown")


def test_the_last_failed_close_is_kept_with_the_position(position_manager, clock):
    record = position_manager.mark_status(position_manager.open(hedge()).id, S.OPEN)
    assert record.close_failed_at is None
    failed_at = T0 + timedelta(minutes=3)
    updated = position_manager.update(record.id, PositionUpdate(close_failed_at=failed_at))
    assert updated.close_failed_at == failed_at
    closed = position_manager.close(record.id, "done", Decimal(0))
    assert closed.close_failed_at == failed_at and position_manager.get(record.id) == closed


def _reach(manager: PositionManager, status: S, symbol: str) -> uuid.UUID:
    record = manager.open(hedge(symbol=symbol))
    if status == S.CLOSED:
        manager.mark_status(record.id, S.OPEN)
        manager.close(record.id, "setup", Decimal(0))
    elif status != S.OPENING:
        manager.mark_status(record.id, status, reason="setup")
    return record.id


def test_every_transition_follows_the_table(position_manager):
    outcomes = {}
    for n, (source, target) in enumerate((a, b) for a in S for b in S):
        position_id = _reach(position_manager, source, f"S{n}")
        try:
            if target == S.CLOSED:
                position_manager.close(position_id, "test", Decimal(0))
            else:
                position_manager.mark_status(position_id, target, reason="test")
        except PositionTransitionError:
            outcomes[(source, target)] = False
        else:
            outcomes[(source, target)] = True
    expected = {(a, b): a == b or b in ALLOWED_POSITION_TRANSITIONS[a] for a in S for b in S}
    assert outcomes == expected


def test_queries_by_strategy_status_and_symbol_oldest_first(position_manager, clock):
    a = position_manager.open(hedge("BTC"))
    clock.advance(timedelta(seconds=1))
    b = position_manager.open(hedge("ETH", status=S.OPEN))
    clock.advance(timedelta(seconds=1))
    c = position_manager.open(hedge("BTC", strategy="grid"))
    position_manager.mark_status(a.id, S.OPEN)
    position_manager.close(a.id, "done", Decimal(1))

    def ids(records: list) -> list[uuid.UUID]:
        return [r.id for r in records]

    assert ids(position_manager.find()) == [a.id, b.id, c.id]
    assert ids(position_manager.find(strategy_name="arb")) == [a.id, b.id]
    assert ids(position_manager.find(symbol="BTC")) == [a.id, c.id]
    assert ids(position_manager.find(statuses=[S.CLOSED])) == [a.id]
    assert ids(position_manager.find(statuses=[S.OPEN, S.OPENING])) == [b.id, c.id]
    assert ids(position_manager.find(statuses=[])) == []
    assert ids(position_manager.find("arb", [S.OPEN], "ETH")) == [b.id]
    assert ids(position_manager.find_active("arb")) == [b.id]
    assert ids(position_manager.find_active("grid", symbol="ETH")) == []


def test_concurrent_opens_of_one_pair_create_exactly_one(position_manager):
    barrier = threading.Barrier(4)
    outcomes: list[object] = []

    def open_one() -> None:
        barrier.wait(timeout=10)
        try:
            outcomes.append(position_manager.open(hedge()))
        except ActivePositionExistsError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    winners = [o for o in outcomes if not isinstance(o, Exception)]
    losers = [o for o in outcomes if isinstance(o, ActivePositionExistsError)]
    assert len(winners) == 1 and len(losers) == 3
    assert {loser.existing_id for loser in losers} == {winners[0].id}
    assert len(position_manager.find()) == 1


def test_losing_the_insert_race_is_the_same_domain_error(clean_db, clock):
    """The check-then-insert window: a rival commits the same pair right before our INSERT;
    the unique index refuses ours and the caller still gets ActivePositionExistsError."""
    rival = PostgresPositionManager(engine_scope(clean_db), clock)
    base = engine_scope(clean_db)
    raced: list[uuid.UUID] = []

    def racing_scope():  # type: ignore[no-untyped-def]
        context = base()
        session = context.__enter__()

        @event.listens_for(session, "before_flush", once=True)
        def rival_commits_first(*_args: object) -> None:
            raced.append(rival.open(hedge()).id)

        class Wrapped:
            def __enter__(self):  # type: ignore[no-untyped-def]
                return session

            def __exit__(self, *exc: object) -> object:
                return context.__exit__(*exc)

        return Wrapped()

    manager = PostgresPositionManager(racing_scope, clock)
    with pytest.raises(ActivePositionExistsError) as err:
        manager.open(hedge())
    assert err.value.existing_id == raced[0]
    assert [r.id for r in rival.find()] == raced

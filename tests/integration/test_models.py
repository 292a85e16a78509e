"""Round trips and constraints of the schema, on real PostgreSQL."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.enums import OrderStatus, PositionStatus
from db.models import FundingRate, FundTransfer, Order, StrategyPosition
from db.repositories import EventRepository

AT = datetime(2020, 1, 6, 9, 30, tzinfo=UTC)


def _position(**overrides):
    values = dict(
        strategy_name="arb",
        symbol="BTC",
        long_dex="hyperliquid",
        short_dex="paradex",
        size_usd=Decimal("1000"),
        status=PositionStatus.OPEN.value,
        created_at=AT,
        updated_at=AT,
    )
    values.update(overrides)
    return StrategyPosition(**values)


def test_money_keeps_every_digit_and_times_stay_utc(db_session):
    when = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    rate = FundingRate(
        venue="lighter",
        symbol="ETH",
        margin_asset="USDC",
        kind="predicted",
        rate=Decimal("0.000012500000000001"),
        interval_hours=Decimal(1),
        mark_price=Decimal("3456.123456789012345678"),
        observed_at=when,
    )
    db_session.add(rate)
    db_session.flush()
    db_session.expire_all()
    stored = db_session.get(FundingRate, rate.id)
    assert stored.rate == Decimal("0.000012500000000001")
    assert stored.mark_price == Decimal("3456.123456789012345678")
    assert stored.observed_at == when
    assert stored.observed_at.tzinfo is not None
    assert stored.observed_at.utcoffset().total_seconds() == 0


def test_client_order_id_is_unique(db_session):
    def order():
        return Order(
            client_order_id="pos1-long-open",
            strategy_name="arb",
            venue="paradex",
            symbol="BTC",
            side="buy",
            order_type="market",
            quantity=Decimal("0.1"),
            purpose="open",
        )

    db_session.add(order())
    db_session.flush()
    db_session.add(order())
    with pytest.raises(IntegrityError, match="uq_orders_client_order_id"):
        db_session.flush()


def test_status_columns_are_constrained(db_session):
    db_session.add(_position(status="gone-fishing"))
    with pytest.raises(IntegrityError, match="ck_strategy_positions_status"):
        db_session.flush()


def test_a_second_active_position_on_the_same_pair_is_refused(db_session):
    db_session.add(_position())
    db_session.flush()
    db_session.add(_position(status=PositionStatus.OPENING.value))
    with pytest.raises(IntegrityError, match="uq_strategy_positions_active_pair"):
        db_session.flush()


def test_a_closed_position_does_not_block_a_new_one(db_session):
    db_session.add(_position(status=PositionStatus.CLOSED.value))
    db_session.add(_position(status=PositionStatus.OPEN.value))
    db_session.flush()


def test_order_fill_cannot_exceed_quantity(db_session):
    db_session.add(
        Order(
            client_order_id="x",
            strategy_name="arb",
            venue="paradex",
            symbol="BTC",
            side="sell",
            order_type="limit",
            price=Decimal(100),
            quantity=Decimal(1),
            filled_qty=Decimal(2),
            purpose="open",
            status=OrderStatus.FILLED.value,
        )
    )
    with pytest.raises(IntegrityError, match="ck_orders_filled_within_qty"):
        db_session.flush()


def test_transfer_between_the_same_venue_is_refused(db_session):
    db_session.add(
        FundTransfer(from_dex="a", to_dex="a", amount_usd=Decimal(10), created_at=AT, updated_at=AT)
    )
    with pytest.raises(IntegrityError, match="ck_fund_transfers_distinct_venues"):
        db_session.flush()


def test_events_are_append_only(db_session):
    event = EventRepository(db_session).append(
        "position.opened",
        "position",
        uuid.uuid4(),
        strategy_name="arb",
        occurred_at=AT,
        size=Decimal("1.5"),
    )
    db_session.flush()
    assert event.payload == {"size": "1.5"}
    assert event.occurred_at == AT
    with pytest.raises(DBAPIError, match="append-only"):
        db_session.execute(text("UPDATE events SET kind = 'x' WHERE id = :id"), {"id": event.id})


def test_an_event_without_its_writers_clock_time_is_refused(db_session):
    # No server default: the database never dates an event with its own wall time.
    with pytest.raises(IntegrityError, match='"occurred_at"'):
        db_session.execute(text("INSERT INTO events (entity_type, kind) VALUES ('x', 'y')"))


def test_events_are_read_back_per_entity_and_recent_first(db_session):
    repo = EventRepository(db_session)
    entity = uuid.uuid4()
    repo.append("a", "position", entity, strategy_name="s1", occurred_at=AT)
    repo.append("b", "position", entity, strategy_name="s1", occurred_at=AT)
    repo.append("c", "transfer", uuid.uuid4(), strategy_name="s2", occurred_at=AT)
    db_session.flush()
    assert [e.kind for e in repo.for_entity("position", entity)] == ["a", "b"]
    assert [e.kind for e in repo.recent(limit=2)] == ["c", "b"]
    assert [e.kind for e in repo.recent(strategy_name="s1")] == ["b", "a"]


def test_an_event_needs_an_aware_time_from_the_caller(db_session):
    repo = EventRepository(db_session)
    with pytest.raises(ValueError, match=r"occurred_at .* is not timezone-aware"):
        repo.append("a", "position", uuid.uuid4(), occurred_at=datetime(2020, 1, 6))
    # Nor does the database date a row itself: a row without a time is refused.
    with pytest.raises(IntegrityError, match="occurred_at"):
        db_session.execute(
            text("INSERT INTO events (entity_type, kind, payload) VALUES ('x', 'y', '{}')")
        )


def test_stale_position_update_is_detected(engine, clean_db):
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError

    with Session(engine) as s:
        s.add(_position(strategy_name="stale"))
        s.commit()
    with Session(engine) as a, Session(engine) as b:
        pa = a.scalars(select(StrategyPosition).filter_by(strategy_name="stale")).one()
        pb = b.scalars(select(StrategyPosition).filter_by(strategy_name="stale")).one()
        pa.current_divergence = Decimal("0.0001")
        a.commit()
        pb.current_divergence = Decimal("0.0002")
        with pytest.raises(StaleDataError):
            b.commit()

"""The read model's set-based queries on rows the test writes (real PostgreSQL, rolled back):
the PnL curve against a plain recomputation from the same rows, and the newest quote per
venue and symbol that the positions page marks legs with."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.market import FundingKind
from dashboard.readmodel import pnl
from db.repositories.funding_rates import FundingRateRepository

T0 = datetime(2026, 3, 1, tzinfo=UTC)
D = Decimal


def _empty(session: Session) -> None:
    session.execute(
        text("TRUNCATE events, funding_payments, orders, strategy_positions, funding_rates CASCADE")
    )


def _position(session: Session, opened: datetime, symbol: str) -> uuid.UUID:
    position_id = uuid.uuid4()
    session.execute(
        text(
            """INSERT INTO strategy_positions (id, strategy_name, symbol, long_dex, short_dex,
                size_usd, long_qty, short_qty, status, opened_at, created_at, updated_at)
            VALUES (:id, 'arb', :s, 'lighter', 'paradex', 1000, 1, 1, 'open', :at, :at, :at)"""
        ),
        {"id": position_id, "at": opened, "s": symbol},
    )
    return position_id


def _event(session: Session, at: datetime, position: uuid.UUID, kind: str, payload: str) -> None:
    session.execute(
        text(
            """INSERT INTO events (occurred_at, strategy_name, entity_type, entity_id, kind,
                payload) VALUES (:at, 'arb', 'position', :id, :kind, CAST(:payload AS jsonb))"""
        ),
        {"at": at, "id": str(position), "kind": kind, "payload": payload},
    )


def _unrealised(session: Session, at: datetime, position: uuid.UUID, value: str) -> None:
    _event(
        session,
        at,
        position,
        "position.updated",
        f'{{"changes": {{"unrealized_pnl_usd": "{value}"}}}}',
    )


def _funding(session: Session, at: datetime, position: uuid.UUID, amount: str) -> None:
    session.execute(
        text(
            """INSERT INTO funding_payments (id, position_id, strategy_name, venue, symbol,
                funding_time, rate, position_qty, mark_price, amount_usd)
            VALUES (gen_random_uuid(), :p, 'arb', 'lighter', 'ETH', :at, 0.0001, 1, 2000, :a)"""
        ),
        {"p": position, "at": at, "a": D(amount)},
    )


def _order_fee(session: Session, at: datetime, position: uuid.UUID, fee: str) -> None:
    client_id = uuid.uuid4().hex
    session.execute(
        text(
            """INSERT INTO orders (id, client_order_id, venue_client_order_id, strategy_name,
                position_id, venue, symbol, side, order_type, quantity, purpose, status,
                filled_qty, fee_usd, sent_at)
            VALUES (gen_random_uuid(), :c, :c, 'arb', :p, 'lighter', 'ETH', 'buy', 'market',
                1, 'open', 'filled', 1, :fee, :at)"""
        ),
        {"c": client_id, "p": position, "fee": D(fee), "at": at},
    )


def _reference(session: Session, now: datetime) -> dict[int, tuple[Decimal, Decimal, Decimal]]:
    """The curve recomputed in Python from every row: at each bucket's end, the sums so far
    and, per position, the newest unrealised value monitoring wrote (zero once closed)."""
    start = session.execute(pnl._RANGE).scalar_one()
    step = max((now - start).total_seconds() / pnl.POINTS, 1.0)

    def bucket(at: datetime) -> int:
        return int(min(max((at - start).total_seconds() // step, 0), pnl.POINTS - 1))

    moves: list[tuple[int, str, Decimal]] = []
    for at, amount in session.execute(
        text("SELECT funding_time, amount_usd FROM funding_payments")
    ):
        moves.append((bucket(at), "funding", amount))
    for at, fee in session.execute(text("SELECT sent_at, fee_usd FROM orders WHERE fee_usd <> 0")):
        moves.append((bucket(at), "fees", fee))
    updates: dict[str, list[tuple[int, int, Decimal]]] = {}
    events = session.execute(
        text("SELECT id, occurred_at, entity_id, kind, payload FROM events ORDER BY id")
    )
    for event_id, at, entity, kind, payload in events:
        if at > now:
            continue
        if kind == "position.settled":
            moves.append((bucket(at), "price", D(payload["trading_pnl_usd"])))
        elif kind == "position.closed":
            updates.setdefault(entity, []).append((bucket(at), event_id, D(0)))
        elif kind == "position.updated" and "unrealized_pnl_usd" in payload.get("changes", {}):
            value = D(payload["changes"]["unrealized_pnl_usd"])
            updates.setdefault(entity, []).append((bucket(at), event_id, value))
    touched = {b for b, _, _ in moves} | {b for rows in updates.values() for b, _, _ in rows}
    curve = {}
    for b in sorted(touched):
        funding = sum((a for k, kind, a in moves if k <= b and kind == "funding"), D(0))
        fees = sum((a for k, kind, a in moves if k <= b and kind == "fees"), D(0))
        price = sum((a for k, kind, a in moves if k <= b and kind == "price"), D(0))
        for rows in updates.values():
            seen = [(event_id, value) for k, event_id, value in rows if k <= b]
            if seen:
                price += max(seen)[1]
        curve[b] = (funding, fees, price)
    return curve


@pytest.fixture
def session(db_session: Session) -> Session:
    _empty(db_session)
    return db_session


def test_the_pnl_curve_equals_a_recomputation_from_the_rows(session):
    now = T0 + timedelta(hours=120)
    a, b, c = (
        _position(session, T0 + timedelta(hours=h), s)
        for h, s in ((0, "ETH"), (10, "BTC"), (50, "SOL"))
    )
    for hour in range(0, 120, 3):  # monitoring writes each position's uPnL every 3 hours
        at = T0 + timedelta(hours=hour, minutes=7)
        for position, opened, scale in ((a, 0, 1), (b, 10, -2), (c, 50, 3)):
            if hour >= opened and not (position == b and hour >= 90):
                _unrealised(session, at, position, str(D(hour % 17 - 8) * scale / 4))
        if hour % 8 == 0:
            _funding(session, at, a, "0.25")
            _funding(session, at, b, "-0.10")
    for position in (a, b, c):
        _order_fee(session, T0 + timedelta(hours=1), position, "0.40")
    # b closes at hour 90: the curve drops its uPnL and books the settled price PnL.
    _event(session, T0 + timedelta(hours=90, minutes=8), b, "position.closed", "{}")
    _event(
        session,
        T0 + timedelta(hours=90, minutes=8),
        b,
        "position.settled",
        '{"trading_pnl_usd": "1.75"}',
    )
    # A monitor update after `now` is not on the curve.
    _unrealised(session, now + timedelta(hours=1), a, "999")
    curve = pnl.series(session, now)
    expected = _reference(session, now)
    step = (now - T0).total_seconds() / pnl.POINTS
    got = {
        round((point.at - T0).total_seconds() / step) - 1: (point.funding, point.fees, point.price)
        for point in curve
    }
    assert got == expected
    last = curve[-1]
    assert last.at == T0 + timedelta(hours=118)  # the end of the last bucket that moved
    assert (
        last.fees == D("1.20") and last.funding == (D("0.25") - D("0.10")) * 5
    )  # hours 0, 24, 48, 72, 96
    # a's and c's newest uPnL (hour 117) plus b's settled trade; b's uPnL is gone.
    assert last.price == D(117 % 17 - 8) / 4 + D(117 % 17 - 8) * 3 / 4 + D("1.75")


def test_an_empty_log_has_no_curve(session):
    assert pnl.series(session, T0) == []


def _quote(
    session: Session,
    venue: str,
    at: datetime,
    rate: str,
    *,
    margin: str = "USDC",
    kind: str = "predicted",
) -> None:
    session.execute(
        text(
            """INSERT INTO funding_rates (venue, symbol, margin_asset, kind, rate, interval_hours,
                mark_price, observed_at) VALUES (:v, 'ETH', :m, :k, :r, 1, 2000, :at)"""
        ),
        {"v": venue, "m": margin, "k": kind, "r": D(rate), "at": at},
    )


def test_the_newest_quote_per_venue_and_symbol_is_one_row_each(session):
    # lighter quotes ETH in USDC every 10 minutes and in USDT twice: the USDT series (last by
    # name, as before) gives its newest; a realised rate and a quote too old are not marks.
    for minutes in range(0, 60, 10):
        _quote(session, "lighter", T0 + timedelta(minutes=minutes), f"0.000{minutes // 10 + 1}")
    _quote(session, "lighter", T0 + timedelta(minutes=35), "0.0009", margin="USDT")
    _quote(session, "lighter", T0 + timedelta(minutes=55), "0.0008", margin="USDT")
    _quote(session, "lighter", T0 + timedelta(minutes=59), "0.5", kind="realised")  # other kind
    _quote(session, "paradex", T0 - timedelta(hours=2), "0.0002")  # too old
    rates = FundingRateRepository(session).newest_per_pair(
        T0 - timedelta(hours=1),
        [("lighter", "ETH"), ("paradex", "ETH"), ("lighter", "ETH"), ("extended", "BTC")],
        kind=FundingKind.PREDICTED,
    )
    assert [(r.venue, r.rate, r.margin_asset, r.timestamp) for r in rates] == [
        ("lighter", D("0.0008"), "USDT", T0 + timedelta(minutes=55))
    ]
    assert FundingRateRepository(session).newest_per_pair(T0, [], kind=FundingKind.PREDICTED) == []

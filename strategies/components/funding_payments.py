"""Funding-payment backends for `FundingPaymentStore` (see `funding_types`):
`PostgresFundingPaymentStore` on the `funding_payments` table and its in-memory twin.

The table's unique index on (position_id, venue, funding_time) makes a payment stored twice
one row; both backends skip duplicates the same way and report only the new payments.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from db.models import FundingPayment
from strategies.components.funding_types import FundingLegSummary, FundingPaymentRecord
from strategies.components.sessions import SessionScope


def _key(payment: FundingPaymentRecord) -> tuple[uuid.UUID, str, object]:
    return (payment.position_id, payment.venue, payment.funding_time)


def _summaries(payments: Sequence[FundingPaymentRecord]) -> dict[str, FundingLegSummary]:
    result: dict[str, FundingLegSummary] = {}
    for p in payments:
        seen = result.get(p.venue)
        if seen is None:
            result[p.venue] = FundingLegSummary(p.venue, p.amount_usd, 1, p.funding_time)
        else:
            result[p.venue] = FundingLegSummary(
                p.venue,
                seen.total_usd + p.amount_usd,
                seen.payments + 1,
                max(seen.last_funding_time, p.funding_time),
            )
    return result


class PostgresFundingPaymentStore:
    """`funding_payments` rows; each call is one transaction."""

    def __init__(self, scope: SessionScope) -> None:
        self._scope = scope

    def record(self, payments: Sequence[FundingPaymentRecord]) -> list[FundingPaymentRecord]:
        if not payments:
            return []
        by_key = {_key(p): p for p in payments}
        rows = [
            {
                "id": uuid.uuid4(),
                "position_id": p.position_id,
                "strategy_name": p.strategy_name,
                "venue": p.venue,
                "symbol": p.symbol,
                "funding_time": p.funding_time,
                "rate": p.rate,
                "position_qty": p.position_qty,
                "mark_price": p.mark_price,
                "amount_usd": p.amount_usd,
            }
            for p in by_key.values()
        ]
        with self._scope() as session:
            # Parameter sets, batched by SQLAlchemy under PostgreSQL's bound-parameter limit.
            inserted = session.execute(
                insert(FundingPayment)
                .on_conflict_do_nothing(index_elements=["position_id", "venue", "funding_time"])
                .returning(
                    FundingPayment.position_id, FundingPayment.venue, FundingPayment.funding_time
                ),
                rows,
            ).all()
        return sorted(
            (by_key[(pid, venue, at)] for pid, venue, at in inserted),
            key=lambda p: (p.funding_time, p.venue),
        )

    def summary(self, position_id: uuid.UUID) -> dict[str, FundingLegSummary]:
        with self._scope() as session:
            rows = session.execute(
                select(
                    FundingPayment.venue,
                    func.sum(FundingPayment.amount_usd),
                    func.count(),
                    func.max(FundingPayment.funding_time),
                )
                .where(FundingPayment.position_id == position_id)
                .group_by(FundingPayment.venue)
            ).all()
        return {
            venue: FundingLegSummary(venue, total, count, last)
            for venue, total, count, last in rows
        }

    def for_position(self, position_id: uuid.UUID) -> list[FundingPaymentRecord]:
        with self._scope() as session:
            rows = session.scalars(
                select(FundingPayment)
                .where(FundingPayment.position_id == position_id)
                .order_by(FundingPayment.funding_time, FundingPayment.venue)
            ).all()
            return [
                FundingPaymentRecord(
                    position_id=r.position_id,
                    strategy_name=r.strategy_name,
                    venue=r.venue,
                    symbol=r.symbol,
                    funding_time=r.funding_time,
                    rate=r.rate,
                    position_qty=r.position_qty,
                    mark_price=r.mark_price,
                    amount_usd=r.amount_usd,
                )
                for r in rows
            ]


class InMemoryFundingPaymentStore:
    """The same contract in a dict (tests, backtests). Thread-safe."""

    def __init__(self) -> None:
        self._payments: dict[tuple[uuid.UUID, str, object], FundingPaymentRecord] = {}
        self._by_position: dict[uuid.UUID, list[FundingPaymentRecord]] = {}
        self._lock = threading.Lock()

    def record(self, payments: Sequence[FundingPaymentRecord]) -> list[FundingPaymentRecord]:
        new: list[FundingPaymentRecord] = []
        with self._lock:
            for payment in payments:
                if _key(payment) not in self._payments:
                    self._payments[_key(payment)] = payment
                    self._by_position.setdefault(payment.position_id, []).append(payment)
                    new.append(payment)
        return sorted(new, key=lambda p: (p.funding_time, p.venue))

    def summary(self, position_id: uuid.UUID) -> dict[str, FundingLegSummary]:
        return _summaries(self.for_position(position_id))

    def for_position(self, position_id: uuid.UUID) -> list[FundingPaymentRecord]:
        with self._lock:
            found = list(self._by_position.get(position_id, []))
        return sorted(found, key=lambda p: (p.funding_time, p.venue))

"""One contract, two funding-rate sources: PostgresFundingRateSource (rows stored the way the
collector stores them) and InMemoryFundingRateSource give the same answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from core.market import FundingKind, FundingRate
from db.repositories.funding_rates import FundingRateRepository
from db.uow import unit_of_work
from funding_service.store import PostgresFundingRateSource
from strategies.components.base_components import FundingRateSource
from strategies.components.funding_rates import InMemoryFundingRateSource
from tests.unit.strategies.fakes import T0

PREDICTED = FundingKind.PREDICTED
Store = Callable[[Sequence[FundingRate]], int]


def rate(venue: str, symbol: str, hours: int, value: str, interval: int = 8) -> FundingRate:
    at = T0 + timedelta(hours=hours)
    return FundingRate(
        venue,
        symbol,
        Decimal(value),
        Decimal(interval),
        at + timedelta(hours=1),
        Decimal(100),
        at,
        margin_asset="USDC",
        kind=FundingKind.PREDICTED,
    )


@pytest.fixture
def source(postgres: Engine | None) -> tuple[FundingRateSource, Store]:
    if postgres is None:
        memory = InMemoryFundingRateSource()
        return memory, memory.add

    def store(rates: Sequence[FundingRate]) -> int:
        with unit_of_work(postgres) as session:
            return FundingRateRepository(session).add_many(rates)

    return PostgresFundingRateSource(postgres), store


def test_latest_is_the_newest_observation_per_pair_since_a_time(source):
    reader, store = source
    assert store([rate("b", "ETH", 0, "0.0001"), rate("b", "ETH", 2, "0.0003")]) == 2
    assert store([rate("a", "ETH", 1, "0.0002"), rate("a", "BTC", 3, "-0.0001")]) == 2
    assert store([rate("b", "ETH", 2, "0.0003")]) == 0  # the same observation again
    latest = reader.latest_rates(T0, kind=PREDICTED)
    assert [(r.venue, r.symbol, r.rate) for r in latest] == [
        ("a", "BTC", Decimal("-0.0001")),
        ("a", "ETH", Decimal("0.0002")),
        ("b", "ETH", Decimal("0.0003")),
    ]
    assert latest[0].interval_hours == Decimal(8) and latest[0].timestamp == T0 + timedelta(hours=3)
    assert [
        r.venue for r in reader.latest_rates(T0, venues=["b"], symbols=["ETH"], kind=PREDICTED)
    ] == ["b"]
    assert reader.latest_rates(T0 + timedelta(hours=4), kind=PREDICTED) == []


def test_history_is_oldest_first_with_both_ends_included(source):
    reader, store = source
    store([rate("a", "ETH", h, f"0.000{h}") for h in (3, 1, 2, 4)])
    history = reader.rate_history(
        "a", "ETH", T0 + timedelta(hours=1), T0 + timedelta(hours=3), kind=PREDICTED
    )
    assert [r.rate for r in history] == [Decimal("0.0001"), Decimal("0.0002"), Decimal("0.0003")]
    assert reader.rate_history("a", "BTC", T0, T0 + timedelta(hours=9), kind=PREDICTED) == []

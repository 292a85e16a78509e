"""The ranking from stored rates through the PostgreSQL screen (`rank_screen`: float columns,
exact rates loaded only for the pairs evaluated) equals the ranking over every rate read as a
`FundingRate` (`rank_opportunities`): same opportunities, exclusions and totals."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from core.market import FundingKind, FundingRate
from db.repositories.funding_rates import FundingRateRepository
from db.uow import unit_of_work
from funding_service.fees import FeeSchedule, VenueFees
from funding_service.opportunities import (
    OpportunityFilter,
    ScreenSource,
    rank_opportunities,
    rank_screen,
)
from funding_service.store import PostgresFundingRateSource
from strategies.implementations.funding_arbitrage.api_client import FundingServiceClient

NOW = datetime(2026, 6, 1, tzinfo=UTC)
VENUES = ["aster", "extended", "hyperliquid", "lighter", "nofees", "paradex"]
FEES = FeeSchedule(
    {
        "aster": VenueFees(D("0.0002"), D("0.0004")),
        "extended": VenueFees(D(0), D("0.00025")),
        "hyperliquid": VenueFees(D("0.00015"), D("0.00045")),
        "lighter": VenueFees(D(0), D(0)),
        "paradex": VenueFees(D(0), D("0.0003")),
    },
    overrides={("paradex", "SYM03"): VenueFees(D(0), D("0.001"))},
)


def _rates(seed: int) -> list[FundingRate]:
    """Quotes with history, two margin assets on some venues, stale and thin ones."""
    rnd = random.Random(seed)
    out = []
    for s in range(40):
        level = rnd.gauss(1e-5, 2e-5)
        for venue in VENUES:
            interval = rnd.choice([1, 4, 8])
            for margin in ("USDC", "USDT") if rnd.random() < 0.2 else ("USDC",):
                age = rnd.choice([0, 30, 90, 2000])  # seconds; 2000 s is stale for 15 min
                for back in (0, 300, 600):
                    hourly = level + rnd.gauss(0, 4e-5)
                    out.append(
                        FundingRate(
                            venue,
                            f"SYM{s:02d}",
                            D(f"{hourly * interval:.8f}"),
                            D(interval),
                            None,
                            D(100),
                            NOW - timedelta(seconds=age + back),
                            D(rnd.choice([50_000, 2_000_000])) if rnd.random() < 0.5 else None,
                            margin_asset=margin,
                            kind=FundingKind.PREDICTED,
                        )
                    )
    return out


@pytest.fixture
def stored(clean_db):
    with unit_of_work(clean_db) as session:
        FundingRateRepository(session).add_many(_rates(11))
    return PostgresFundingRateSource(clean_db)


FILTERS = [
    OpportunityFilter(max_breakeven_hours=D(10_000)),
    OpportunityFilter(min_open_interest_usd=D(1_000_000), max_breakeven_hours=D(500)),
    OpportunityFilter(
        excluded_venues=frozenset({"aster"}),
        excluded_symbols=frozenset({"SYM01"}),
        maker_open=True,
    ),
    OpportunityFilter(
        venues=frozenset({"hyperliquid", "paradex", "lighter"}),
        symbols=frozenset({"SYM02", "SYM03", "SYM04", "SYM05"}),
    ),
    OpportunityFilter(max_age=timedelta(hours=2)).with_min_apr(D("0.05")),
]


@pytest.mark.parametrize("flt", FILTERS)
@pytest.mark.parametrize("limit", [1, 5, None])
def test_the_screen_ranks_exactly_like_the_full_read(stored, flt, limit):
    client = FundingServiceClient(stored, FEES)
    full = rank_opportunities(client.latest_rates(NOW), FEES, flt, NOW, limit)
    screen = stored.quote_screen(
        NOW - FundingServiceClient.LOOKBACK, None, None, flt.min_open_interest_usd
    )
    screened = rank_screen(screen, stored.rates_by_id, FEES, flt, NOW, limit)
    assert screened == full
    assert full.excluded, "the data has stale, thin and fee-less quotes to report"
    if flt == FILTERS[0]:
        assert len(full.opportunities) == (limit or len(full.opportunities)) > 0


def test_the_client_ranks_through_the_screen(stored):
    assert isinstance(stored, ScreenSource)
    client = FundingServiceClient(stored, FEES)
    flt = FILTERS[0]
    ranked = client.rank(NOW, flt, limit=3)
    assert ranked == rank_opportunities(client.latest_rates(NOW), FEES, flt, NOW, 3)
    assert [o.net_rate for o in ranked.opportunities] == sorted(
        (o.net_rate for o in ranked.opportunities), reverse=True
    )


def test_an_empty_store_ranks_nothing(clean_db):
    source = PostgresFundingRateSource(clean_db)
    screen = source.quote_screen(NOW - timedelta(days=1), None, None, None)
    ranking = rank_screen(screen, source.rates_by_id, FEES, FILTERS[0], NOW, 5)
    assert (ranking.opportunities, ranking.excluded, ranking.total) == ([], [], 0)

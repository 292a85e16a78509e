"""Collection into real PostgreSQL and reading back through the strategy's client."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import ManualClock
from core.market import FundingKind, FundingRate
from db.models import Event
from db.models import FundingRate as FundingRateRow
from exchanges.base import MalformedResponseError, TransientExchangeError
from funding_service.collector import FundingCollector
from funding_service.fees import FeeSchedule, VenueFees
from funding_service.opportunities import OpportunityFilter
from funding_service.store import PostgresFundingRateSource
from strategies.implementations.funding_arbitrage.api_client import FundingServiceClient

T0 = datetime(2026, 6, 1, tzinfo=UTC)


class RecordedVenue:
    """Stands in for a real DEX (which cannot run here): answers with given rates or fails."""

    def __init__(self, name, rates=None, error=None):
        self.name = name
        self._rates = rates or []
        self._error = error

    def funding_rates(self, symbols=None):
        if self._error:
            raise self._error
        return self._rates


def fr(venue, symbol, rate, interval, at):
    return FundingRate(
        venue,
        symbol,
        D(rate),
        D(interval),
        None,
        D(100),
        at,
        margin_asset="USDC",
        kind=FundingKind.PREDICTED,
    )


def test_one_failing_venue_does_not_stop_the_others(clean_db):
    clock = ManualClock(T0)
    clients = {
        "hyperliquid": RecordedVenue("hyperliquid", [fr("hyperliquid", "BTC", "0.00001", 1, T0)]),
        "paradex": RecordedVenue("paradex", error=TransientExchangeError("paradex", "HTTP 503")),
        "aster": RecordedVenue(
            "aster", [fr("aster", "BTC", "0.0003", 8, T0), fr("aster", "ETH", "0.0001", 8, T0)]
        ),
        "broken": RecordedVenue("broken", error=MalformedResponseError("broken", "no rate")),
    }
    report = FundingCollector(clients, clock, clean_db).collect()
    assert report.stored == {"hyperliquid": 1, "aster": 2}
    assert set(report.failures) == {"paradex", "broken"}
    assert "HTTP 503" in report.failures["paradex"]
    with Session(clean_db) as s:
        assert s.scalar(select(func.count()).select_from(FundingRateRow)) == 3
        failures = s.scalars(select(Event).where(Event.kind == "funding.collect_failed")).all()
        assert sorted(e.entity_id for e in failures) == ["broken", "paradex"]


def test_a_venue_whose_value_overflows_the_column_is_recorded_and_the_others_stored(clean_db):
    clients = {
        "aster": RecordedVenue("aster", [fr("aster", "BTC", "0.0003", 8, T0)]),
        "grvt": RecordedVenue("grvt", [fr("grvt", "BTC", "1e21", 8, T0)]),  # > Numeric(38,18)
        "lighter": RecordedVenue("lighter", [fr("lighter", "SOL", "0.00002", 1, T0)]),
    }
    report = FundingCollector(clients, ManualClock(T0), clean_db).collect()
    assert report.stored == {"aster": 1, "lighter": 1}
    assert "numeric field overflow" in report.failures["grvt"]
    with Session(clean_db) as s:
        stored = s.scalars(select(FundingRateRow.venue)).all()
        assert sorted(stored) == ["aster", "lighter"]
        [event] = s.scalars(select(Event).where(Event.kind == "funding.collect_failed")).all()
        assert event.entity_id == "grvt"


def test_collecting_the_same_observation_twice_stores_it_once(clean_db):
    clients = {"lighter": RecordedVenue("lighter", [fr("lighter", "SOL", "0.00002", 1, T0)])}
    collector = FundingCollector(clients, ManualClock(T0), clean_db)
    assert collector.collect().stored == {"lighter": 1}
    assert collector.collect().stored == {"lighter": 0}


def test_a_crashing_adapter_is_recorded_not_raised(clean_db):
    class Crashing(RecordedVenue):
        def funding_rates(self, symbols=None):
            raise KeyError("fundingRate")

    report = FundingCollector({"x": Crashing("x")}, ManualClock(T0), clean_db).collect()
    assert report.failures["x"].startswith("unexpected KeyError")


def test_client_ranks_latest_rates_and_reports_stale_ones(clean_db):
    now = T0 + timedelta(hours=3)
    rates = [
        fr("hyperliquid", "BTC", "0.00001", 1, T0),  # superseded below
        fr("hyperliquid", "BTC", "-0.00002", 1, now - timedelta(minutes=1)),
        fr("paradex", "BTC", "0.0004", 8, now - timedelta(minutes=2)),
        fr("aster", "BTC", "0.0009", 8, now - timedelta(hours=2)),  # stale
    ]
    from db.repositories.funding_rates import FundingRateRepository
    from db.uow import unit_of_work

    with unit_of_work(clean_db) as session:
        FundingRateRepository(session).add_many(rates)

    venues = ("hyperliquid", "paradex", "aster")
    fees = FeeSchedule({v: VenueFees(D(0), D("0.0003")) for v in venues})
    client = FundingServiceClient(PostgresFundingRateSource(clean_db), fees)
    ranking = client.rank(now, OpportunityFilter(max_age=timedelta(minutes=15)))
    (best,) = ranking.opportunities
    assert (best.long_venue, best.short_venue) == ("hyperliquid", "paradex")
    assert best.divergence_hourly == D("0.00007")  # 0.0004/8 - (-0.00002)
    assert [(e.venue, e.reason.split(":")[0]) for e in ranking.excluded] == [("aster", "stale")]

    quote = client.current(now, "BTC", "paradex", "hyperliquid", timedelta(minutes=15))
    assert quote.divergence_hourly == D("-0.00007")
    assert client.current(now, "BTC", "aster", "paradex", timedelta(minutes=15)) is None

    history = client.divergence_history("BTC", "hyperliquid", "paradex", T0, now)
    assert [p.divergence_hourly for p in history] == [D("0.00007")]
    assert len(client.latest_rates(now)) == 3


def test_a_batch_beyond_the_bound_parameter_limit_is_stored_whole(clean_db):
    # 9,000 observations x 8 columns: more bound parameters than one PostgreSQL statement takes.
    from db.repositories.funding_rates import FundingRateRepository
    from db.uow import unit_of_work

    rates = [
        fr("paradex", f"S{i % 300}", "0.0001", 8, T0 + timedelta(minutes=i)) for i in range(9000)
    ]
    with unit_of_work(clean_db) as session:
        assert FundingRateRepository(session).add_many(rates) == 9000
    with unit_of_work(clean_db) as session:
        assert FundingRateRepository(session).add_many(rates[:10]) == 0  # already stored
    with Session(clean_db) as s:
        assert s.scalar(select(func.count()).select_from(FundingRateRow)) == 9000


def test_an_adapter_returning_settlements_instead_of_quotes_is_a_failure(clean_db):
    from dataclasses import replace

    settled = replace(fr("aster", "BTC", "0.0001", 8, T0), kind=FundingKind.REALISED)
    clients = {
        "aster": RecordedVenue("aster", [settled]),
        "lighter": RecordedVenue("lighter", [fr("lighter", "SOL", "0.00002", 1, T0)]),
    }
    report = FundingCollector(clients, ManualClock(T0), clean_db).collect()
    assert report.stored == {"lighter": 1}
    assert report.failures["aster"] == "adapter returned realised rates, not quotes"

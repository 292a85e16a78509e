"""Funding history into the store the live system reads, with every trap of the data tested
against real PostgreSQL."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import ManualClock
from core.market import FundingKind, FundingRate
from core.settings import PROJECT_ROOT
from db.models import FundingRate as FundingRateRow
from db.repositories.funding_history import FundingHistoryRepository
from db.repositories.funding_rates import FundingRateRepository
from db.uow import unit_of_work
from funding_service.fees import FeeSchedule, VenueFees
from funding_service.history.importer import HistoryConflictError, import_history
from funding_service.history.mapping import ColumnMapping
from funding_service.history.validate import HistoryRowError
from funding_service.opportunities import OpportunityFilter, rank_opportunities
from funding_service.store import PostgresFundingRateSource
from strategies.implementations.funding_arbitrage.api_client import FundingServiceClient

SAMPLE = PROJECT_ROOT / "data" / "sample" / "funding-history"
CLOCK = ManualClock(datetime(2026, 9, 1, tzinfo=UTC))
HEADER = "venue,canonical_symbol,settlement_ts,rate_raw,interval_hours\n"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def stored_rows(engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(FundingRateRow))


def write_csv(path: Path, rows) -> Path:
    path.write_text(
        HEADER + "".join(f"{v},{s},{t.isoformat()},{r},{h}\n" for v, s, t, r, h in rows)
    )
    return path


def lengths(engine, **filters):
    with unit_of_work(engine) as session:
        return FundingHistoryRepository(session).series(**filters)


def test_the_sample_imports_once_with_its_history_length_known(clean_db):
    report = import_history(SAMPLE, ColumnMapping(), CLOCK, clean_db)
    assert (report.rows, report.new, len(report.series)) == (39_495, 39_495, 15)
    again = import_history(SAMPLE, ColumnMapping(), CLOCK, clean_db)
    assert (again.rows, again.new) == (39_495, 0)  # idempotent: nothing added
    assert stored_rows(clean_db) == 39_495

    series = {str(s.series): s for s in lengths(clean_db)}
    btc = series["binance BTC-USDT"]
    assert (btc.rows, btc.expected, btc.missing, btc.gaps) == (1095, 1095, 0, 0)
    assert (btc.first, btc.last) == (
        datetime(2025, 8, 21, 8, tzinfo=UTC),
        datetime(2026, 8, 21, 0, 0, 0, 4000, tzinfo=UTC),
    )
    assert btc.intervals == (D(8),)
    hyper = series["hyperliquid BTC-USDC"]
    assert (hyper.rows, hyper.missing, hyper.intervals) == (8785, 0, (D(1),))


def test_usdt_and_usdc_perpetuals_stay_separate_series_with_their_own_rates(clean_db):
    import_history(SAMPLE, ColumnMapping(), CLOCK, clean_db)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with unit_of_work(clean_db) as session:
        repo = FundingRateRepository(session)
        usdt = repo.history(
            "binance",
            "BTC",
            at,
            at + timedelta(days=7),
            kind=FundingKind.REALISED,
            margin_asset="USDT",
        )
        usdc = repo.history(
            "binance",
            "BTC",
            at,
            at + timedelta(days=7),
            kind=FundingKind.REALISED,
            margin_asset="USDC",
        )
    assert len(usdt) == len(usdc) == 21  # three a day for a week
    assert [r.timestamp for r in usdt] == [r.timestamp for r in usdc]
    # Different instruments, different funding: collapsing them into "BTC" would double count.
    assert [r.rate for r in usdt] != [r.rate for r in usdc]
    # Raw rate per interval and the row's interval, as the file has them.
    assert (usdt[0].interval_hours, usdt[0].kind) == (D(8), FundingKind.REALISED)


def test_a_reader_as_of_t_never_sees_a_settlement_paid_after_t(clean_db):
    import_history(SAMPLE, ColumnMapping(), CLOCK, clean_db)
    as_of = datetime(2026, 3, 1, 7, 59, 59, tzinfo=UTC)
    with unit_of_work(clean_db) as session:
        seen = FundingRateRepository(session).history(
            "binance", "ETH", as_of - timedelta(days=1), as_of, kind=FundingKind.REALISED
        )
    assert seen and max(r.timestamp for r in seen) <= as_of
    # The 08:00 settlement accrued over [00:00, 08:00) but is paid at 08:00: not yet known.
    assert all(r.timestamp.hour != 8 or r.timestamp.date() != as_of.date() for r in seen)


def test_realised_history_never_reaches_the_live_ranking(clean_db):
    import_history(SAMPLE, ColumnMapping(), CLOCK, clean_db)
    now = datetime(2026, 8, 21, 1, tzinfo=UTC)
    quote = FundingRate(
        "hyperliquid",
        "BTC",
        D("0.00001"),
        D(1),
        None,
        None,
        now,
        margin_asset="USDC",
        kind=FundingKind.PREDICTED,
    )
    with unit_of_work(clean_db) as session:
        FundingRateRepository(session).add_many([quote])
    fees = FeeSchedule({v: VenueFees(D(0), D("0.0003")) for v in ("binance", "hyperliquid")})
    client = FundingServiceClient(PostgresFundingRateSource(clean_db), fees)
    assert client.latest_rates(now) == [quote]  # the settlements of that day are not quotes
    history = PostgresFundingRateSource(clean_db).latest_rates(
        now - timedelta(days=1), kind=FundingKind.REALISED
    )
    assert {r.kind for r in history} == {FundingKind.REALISED} and len(history) == 15
    with pytest.raises(ValueError, match="the ranking reads predicted quotes"):
        rank_opportunities(history, fees, OpportunityFilter(), now)


def test_a_missing_settlement_stays_missing(clean_db, tmp_path):
    rows = [
        ("binance", "TIA-USDT-PERP", T0 + timedelta(hours=4 * k), f"0.0000{k + 1}", 4)
        for k in range(6)
    ]
    del rows[3]  # the 12:00 settlement never happened
    import_history(write_csv(tmp_path / "gap.csv", rows), ColumnMapping(), CLOCK, clean_db)
    (tia,) = lengths(clean_db, venue="binance", symbol="TIA")
    assert (tia.rows, tia.expected, tia.missing, tia.gaps) == (5, 6, 1, 1)
    with unit_of_work(clean_db) as session:
        stored = FundingRateRepository(session).history(
            "binance", "TIA", T0, T0 + timedelta(days=1), kind=FundingKind.REALISED
        )
    assert [r.timestamp.hour for r in stored] == [0, 4, 8, 16, 20]  # no 12:00, not filled


def test_a_bad_row_imports_nothing_from_any_file(clean_db, tmp_path):
    folder = tmp_path / "history"
    (folder / "venue=binance").mkdir(parents=True)
    (folder / "venue=bybit").mkdir()
    import pyarrow as pa
    import pyarrow.parquet as pq

    def table(venue, rates):
        return pa.table(
            {
                "venue": [venue] * len(rates),
                "canonical_symbol": ["BTC-USDT-PERP"] * len(rates),
                "settlement_ts": pa.array(
                    [T0 + timedelta(hours=8 * k) for k in range(len(rates))],
                    pa.timestamp("us", tz="UTC"),
                ),
                "rate_raw": rates,
                "interval_hours": [8.0] * len(rates),
            }
        )

    pq.write_table(table("binance", [0.0001, 0.0002]), folder / "venue=binance" / "data.parquet")
    pq.write_table(
        table("bybit", [0.0001, float("nan"), 0.0003]), folder / "venue=bybit" / "data.parquet"
    )
    with pytest.raises(HistoryRowError, match=r"venue=bybit/data.parquet: row 2 .*'rate_raw'"):
        import_history(folder, ColumnMapping(), CLOCK, clean_db)
    assert stored_rows(clean_db) == 0


def test_a_settlement_stored_with_another_rate_is_a_conflict_not_an_overwrite(clean_db, tmp_path):
    rows = [("bybit", "ETH-USDC-PERP", T0 + timedelta(hours=8 * k), "0.0001", 8) for k in range(3)]
    import_history(write_csv(tmp_path / "a.csv", rows), ColumnMapping(), CLOCK, clean_db)
    rows[1] = ("bybit", "ETH-USDC-PERP", T0 + timedelta(hours=8), "0.0009", 8)
    rows.append(("bybit", "ETH-USDC-PERP", T0 + timedelta(hours=24), "0.0001", 8))
    with pytest.raises(HistoryConflictError, match=r"b.csv: line 3: bybit ETH-USDC .*0.0009"):
        import_history(write_csv(tmp_path / "b.csv", rows), ColumnMapping(), CLOCK, clean_db)
    assert stored_rows(clean_db) == 3  # not even the new 24:00 row

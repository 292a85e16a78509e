"""Every row of a history file is checked; a bad one is named by file, row/line and column."""

from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.clock import ManualClock
from core.errors import ConfigError
from core.settings import PROJECT_ROOT
from funding_service.history.importer import load_history
from funding_service.history.mapping import ColumnMapping, load_mapping_file, parse_map_option
from funding_service.history.reader import HistoryFileError
from funding_service.history.validate import HistoryRowError

CLOCK = ManualClock(datetime(2026, 9, 1, tzinfo=UTC))
SAMPLE = PROJECT_ROOT / "data" / "sample" / "funding-history"
BENCH_DATA = PROJECT_ROOT / "bench" / "data" / "funding-history"
HEADER = "venue,canonical_symbol,settlement_ts,rate_raw,interval_hours\n"
GOOD = [
    "binance,BTC-USDT-PERP,2026-03-01T00:00:00Z,0.0001,8",
    "binance,BTC-USDT-PERP,2026-03-01T08:00:00Z,-0.00002,8",
    "binance,BTC-USDC-PERP,2026-03-01T08:00:00+00:00,0.00003,8",
]


def csv_file(tmp_path: Path, *lines: str, header: str = HEADER) -> Path:
    path = tmp_path / "rates.csv"
    path.write_text(header + "".join(line + "\n" for line in lines))
    return path


def load(path: Path, mapping: ColumnMapping | None = None, skipped=None):
    return load_history(path, mapping or ColumnMapping(), CLOCK, skipped)


def test_a_good_csv_keeps_raw_rates_exactly_and_usdt_apart_from_usdc(tmp_path):
    rates = load(csv_file(tmp_path, *GOOD)).to_rates()
    assert [(r.symbol, r.margin_asset, r.rate, r.interval_hours) for r in rates] == [
        ("BTC", "USDT", D("0.0001"), D(8)),
        ("BTC", "USDT", D("-0.00002"), D(8)),
        ("BTC", "USDC", D("0.00003"), D(8)),
    ]
    assert rates[0].timestamp == datetime(2026, 3, 1, tzinfo=UTC)
    assert rates[0].accrual_start == datetime(2026, 2, 28, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "column", "reason"),
    [
        ("binance,BTC-USDT-PERP,2026-03-01T16:00:00Z,abc,8", "'rate_raw'", "not a number"),
        ("binance,BTC-USDT-PERP,2026-03-01T16:00:00Z,0.5,8", "'rate_raw'", "sane band"),
        ("binance,BTC-USDT-PERP,2026-03-01T16:00:00Z,,8", "'rate_raw'", "is empty"),
        (
            "binance,BTC-USDT-PERP,2026-03-01T16:00:00Z,0.0001,5",
            "'interval_hours'",
            "not an interval",
        ),
        (
            "binance,BTC-USDT-PERP,2026-03-01T16:00:00Z,0.0001,0",
            "'interval_hours'",
            "not an interval",
        ),
        ("binance,BTC-USDT-PERP,2026-03-01T16:00:00,0.0001,8", "'settlement_ts'", "with a zone"),
        ("binance,BTC-USDT-PERP,2026-02-30T16:00:00Z,0.0001,8", "'settlement_ts'", "not a valid"),
        ("binance,BTC-USDT-PERP,2026-10-01T00:00:00Z,0.0001,8", "'settlement_ts'", "look-ahead"),
        (
            "binance,BTC-USDT-PERP,2026-03-01T08:00:00Z,0.0001,8",
            "'settlement_ts'",
            "same settlement as line 3",
        ),
        (
            "binance,BTC-EUR-PERP,2026-03-01T16:00:00Z,0.0001,8",
            "'canonical_symbol'",
            "BASE-MARGIN-PERP",
        ),
        ("binance,BTCUSDT,2026-03-01T16:00:00Z,0.0001,8", "'canonical_symbol'", "BASE-MARGIN-PERP"),
        ("Binance!,BTC-USDT-PERP,2026-03-01T16:00:00Z,0.0001,8", "'venue'", "not a venue name"),
    ],
)
def test_a_bad_row_is_named_by_file_line_and_column(tmp_path, line, column, reason):
    path = csv_file(tmp_path, *GOOD, line)
    with pytest.raises(HistoryRowError) as raised:
        load(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: line 5 ")
    assert f"column {column}: " in message and reason in message


def test_parquet_rows_are_numbered_and_naive_times_refused(tmp_path):
    path = tmp_path / "naive.parquet"
    pq.write_table(
        pa.table(
            {
                "venue": ["bybit"],
                "canonical_symbol": ["ETH-USDT-PERP"],
                "settlement_ts": pa.array([datetime(2026, 1, 1)], pa.timestamp("us")),
                "rate_raw": [0.0001],
                "interval_hours": [8.0],
            }
        ),
        path,
    )
    with pytest.raises(HistoryRowError, match=r"naive.parquet: row 1 .*no time zone"):
        load(path)


def test_a_predicted_rate_is_not_history(tmp_path):
    path = csv_file(
        tmp_path,
        "hyperliquid,SOL-USDC-PERP,2026-03-01T05:00:00Z,0.00001,1,true",
        header=HEADER.strip() + ",is_predicted\n",
    )
    with pytest.raises(HistoryRowError, match="'is_predicted': true: a predicted rate"):
        load(path)


def test_the_real_datasets_bad_row_is_named_and_can_be_skipped_by_choice():
    # Bybit INJ-USDT-PERP has one settlement without an interval (2026-02-27 00:00).
    with pytest.raises(HistoryRowError) as raised:
        load(BENCH_DATA)
    assert str(raised.value) == (
        f"{BENCH_DATA}/venue=bybit/data.parquet: row 16049 (bybit INJ-USDT-PERP "
        "2026-02-27 00:00:00+00:00), column 'interval_hours': is empty"
    )
    skipped = []
    batch = load(BENCH_DATA, skipped=skipped)
    assert [e.origin.split(": ")[1] for e in skipped] == [
        "row 16049 (bybit INJ-USDT-PERP 2026-02-27 00:00:00+00:00)"
    ]
    assert len(batch) == 234_681


def test_the_sample_is_fifteen_series_of_both_margins():
    batch = load(SAMPLE)
    keys = {(k.venue, k.symbol, k.margin_asset) for k in batch.series_keys()}
    assert len(batch) == 39_495 and len(keys) == 15
    assert ("binance", "BTC", "USDT") in keys and ("binance", "BTC", "USDC") in keys
    assert ("hyperliquid", "BTC", "USDT") not in keys  # Hyperliquid lists USDC only


def test_a_column_mapping_from_the_command_line_or_yaml(tmp_path):
    path = csv_file(
        tmp_path,
        "2026-03-01T00:00:00Z,0.0001,8",
        "2026-03-01T08:00:00Z,0.0002,8",
        header="time,rate,hours\n",
    )
    mapping = parse_map_option("settlement_ts=time, rate_raw=rate,interval_hours=hours")
    batch = load(path, mapping.merged(ColumnMapping(venue="binance", symbol="ETH-USDC-PERP")))
    assert [(k.venue, k.symbol, k.margin_asset) for k in batch.series_keys()] == [
        ("binance", "ETH", "USDC")
    ]
    yaml_file = tmp_path / "map.yaml"
    yaml_file.write_text(
        "columns: {settlement_ts: time, rate_raw: rate, interval_hours: hours}\n"
        "venue: bybit\nsymbol: ETH-USDT-PERP\n"
    )
    assert len(load(path, load_mapping_file(yaml_file))) == 2


def test_mapping_mistakes_are_named(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown field.*price"):
        parse_map_option("price=mark")
    with pytest.raises(ConfigError, match="--map: 'time' is not field=column"):
        parse_map_option("time")
    path = csv_file(tmp_path, "2026-03-01T00:00:00Z,0.0001,8", header="time,rate,hours\n")
    with pytest.raises(HistoryFileError, match="no column 'when' \\(mapped to settlement_ts\\)"):
        load(path, parse_map_option("settlement_ts=when"))
    with pytest.raises(HistoryFileError, match=r"no column for venue \(or --venue\)"):
        load(path, parse_map_option("settlement_ts=time,rate_raw=rate,interval_hours=hours"))


def test_a_missing_path_or_folder_without_parquet_is_an_error(tmp_path):
    with pytest.raises(HistoryFileError, match="no such file"):
        load(tmp_path / "nothing.parquet")
    with pytest.raises(HistoryFileError, match="no venue=<name>"):
        load(tmp_path)

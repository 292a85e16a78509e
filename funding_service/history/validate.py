"""Check every row of a history file, column by column, with array operations.

A row is refused when (in this order of columns):
- `venue` is empty or not a venue name (lower case, digits, dashes; at most 20), or differs
  from its `venue=<name>` folder;
- `canonical_symbol` is not `BASE-MARGIN-PERP` with margin USDT, USDC or USD (the margin
  asset is part of the instrument: BTC-USDT-PERP and BTC-USDC-PERP are different series);
- `settlement_ts` has no time zone, cannot be parsed, is before 2016 or after now (a
  settlement from the future would be look-ahead);
- `rate_raw` is empty, not a finite number, or outside |rate| <= 0.1 per interval (above any
  venue's cap: a unit or parsing error, not a market);
- `interval_hours` is empty or not a whole number of hours that divides a day
  (1, 2, 3, 4, 6, 8, 12, 24);
- `mark_price`, when given, is not a finite number above 0;
- `is_predicted` is true (a prediction is not a settlement);
- the same (venue, symbol, settlement time) appears twice.
The first bad row raises `HistoryRowError` naming file, row/line, column and value, with how
many rows are bad in all. Nothing is filled in, rounded to a grid or guessed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from core.errors import PerpbotError
from funding_service.history.batch import SettlementBatch, to_micros
from funding_service.history.reader import SourceTable

GRID_HOURS = (1, 2, 3, 4, 6, 8, 12, 24)
MAX_ABS_RATE = 0.1
EARLIEST = datetime(2016, 1, 1, tzinfo=UTC)
VENUE_PATTERN = r"^[a-z][a-z0-9-]{0,19}$"
SYMBOL_PATTERN = r"^(?P<base>[A-Z0-9]{1,15})-(?P<margin>USDT|USDC|USD)-PERP$"
_NUMBER = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"
_ISO_TIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)$"
_TRUE = {"true", "1", "t", "yes"}
_FALSE = {"false", "0", "f", "no"}


class HistoryRowError(PerpbotError):
    """A bad row: names the file, the row (or CSV line), the column and what is wrong."""

    def __init__(self, origin: str, column: str, reason: str, bad_rows: int) -> None:
        more = f" ({bad_rows - 1} more bad rows)" if bad_rows > 1 else ""
        super().__init__(f"{origin}, column {column}: {reason}{more}")
        self.origin = origin
        self.column = column
        self.bad_rows = bad_rows


class _Checks:
    """Collects (column, bad-row mask, reason) and raises for the earliest bad row."""

    def __init__(self, source: SourceTable) -> None:
        self.source = source
        self.n = source.table.num_rows
        self.failures: list[tuple[str, np.ndarray, Callable[[int], str]]] = []

    def add(self, field: str, bad: np.ndarray, reason: Callable[[int], str]) -> None:
        if bad.any():
            self.failures.append((field, bad, reason))

    def bad_rows(self) -> np.ndarray:
        return np.asarray(np.logical_or.reduce([bad for _, bad, _ in self.failures]), dtype=bool)

    def error_for(self, index: int, bad_rows: int) -> HistoryRowError:
        """The error of row `index`: its first failing column."""
        field, _, reason = next(f for f in self.failures if f[1][index])
        column = self.source.columns[field]
        name = f"{column!r}" if column == field else f"{column!r} ({field})"
        return HistoryRowError(
            f"{self.source.path}: {self.source.where(index)}{self._context(index)}",
            name,
            reason(index),
            bad_rows,
        )

    def raise_first(self) -> None:
        if self.failures:
            bad = self.bad_rows()
            raise self.error_for(int(np.argmax(bad)), int(bad.sum()))

    def _context(self, index: int) -> str:
        """The row's venue, symbol and time as the file has them, to find it by eye."""
        shown = [
            str(self.value(field, index))
            for field in ("venue", "canonical_symbol", "settlement_ts")
            if self.value(field, index) is not None
        ]
        return f" ({' '.join(shown)})" if shown else ""

    def value(self, field: str, index: int) -> object:
        return self.source.table.column(field)[index].as_py()


def validate(
    source: SourceTable, now: datetime, skipped: list[HistoryRowError] | None = None
) -> SettlementBatch:
    """Every row of `source` checked; raises `HistoryRowError` for the first bad one.

    With a `skipped` list, bad rows are left out instead and their errors appended to it
    (the operator's explicit choice: `--skip-invalid`); the rest is still checked in full.
    """
    try:
        return _validate(source, now)
    except HistoryRowError:
        if skipped is None:
            raise
    checks = _Checks(source)
    _run_checks(checks, now)
    bad = checks.bad_rows()
    skipped.extend(checks.error_for(int(i), 1) for i in np.flatnonzero(bad))
    return validate(source.subset(~bad), now, skipped)


def _run_checks(checks: _Checks, now: datetime) -> None:
    """Fill `checks` with the failures of every column (the raise is what stops it)."""
    with contextlib.suppress(HistoryRowError):
        _validate(checks.source, now, checks)


def _validate(source: SourceTable, now: datetime, into: _Checks | None = None) -> SettlementBatch:
    checks = into if into is not None else _Checks(source)
    table = source.table
    venue = _strings(table.column("venue"))
    checks.add(
        "venue", _bad_pattern(venue, VENUE_PATTERN), _shown(checks, "venue", "not a venue name")
    )
    if "folder_venue" in table.column_names:
        folder = table.column("folder_venue")
        checks.add(
            "venue",
            _mask(pc.not_equal(venue, folder)),
            lambda i: f"{checks.value('venue', i)!r} inside folder venue={folder[i].as_py()}",
        )
    symbol = _strings(table.column("canonical_symbol"))
    parts = pc.extract_regex(pc.fill_null(symbol, ""), SYMBOL_PATTERN).combine_chunks()
    checks.add(
        "canonical_symbol",
        ~parts.is_valid().to_numpy(zero_copy_only=False),
        _shown(checks, "canonical_symbol", "not BASE-MARGIN-PERP with margin USDT, USDC or USD"),
    )
    settled = _times(checks, now)
    rate = _numbers(checks, "rate_raw", required=True)
    with np.errstate(invalid="ignore"):
        checks.add(
            "rate_raw",
            np.abs(rate) > MAX_ABS_RATE,
            _shown(checks, "rate_raw", f"outside the sane band |rate| <= {MAX_ABS_RATE}"),
        )
    hours = _numbers(checks, "interval_hours", required=True)
    with np.errstate(invalid="ignore"):
        on_grid = np.isin(np.round(hours, 9), GRID_HOURS)
    checks.add(
        "interval_hours",
        ~on_grid & ~np.isnan(hours),
        _shown(checks, "interval_hours", f"not an interval of {'/'.join(map(str, GRID_HOURS))} h"),
    )
    mark = _numbers(checks, "mark_price", required=False)
    with np.errstate(invalid="ignore"):
        checks.add("mark_price", mark <= 0, _shown(checks, "mark_price", "not above 0"))
    _not_predicted(checks)
    checks.raise_first()

    base = parts.field("base").to_numpy(zero_copy_only=False)
    margin = parts.field("margin").to_numpy(zero_copy_only=False)
    venues = venue.to_numpy(zero_copy_only=False)
    _no_duplicates(checks, venues, base, margin, settled)
    return SettlementBatch(
        venue=venues,
        symbol=base,
        margin_asset=margin,
        settled_us=settled,
        rate=rate,
        interval_hours=np.round(hours, 9),
        mark_price=mark,
        rate_text=_exact_text(table, "rate_raw") if source.is_csv else None,
        mark_text=_exact_text(table, "mark_price") if source.is_csv else None,
        origin_file=np.zeros(checks.n, np.int64),
        origin_index=source.row_numbers(),
        files=((str(source.path), source.is_csv),),
    )


def _shown(checks: _Checks, field: str, reason: str) -> Callable[[int], str]:
    return lambda i: f"{reason} (value {checks.value(field, i)!r})"


def _mask(result: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(result, True).to_numpy(zero_copy_only=False), dtype=bool)


def _strings(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return column if pa.types.is_string(column.type) else pc.cast(column, pa.string())


def _nulls(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)


def _bad_pattern(values: pa.ChunkedArray, pattern: str) -> np.ndarray:
    """Rows that are empty or do not match `pattern`."""
    matched = pc.fill_null(pc.match_substring_regex(values, pattern), False)
    return ~np.asarray(matched.to_numpy(zero_copy_only=False), dtype=bool)


def _exact_text(table: pa.Table, field: str) -> np.ndarray | None:
    if field not in table.column_names:
        return None
    column = pc.utf8_trim_whitespace(table.column(field))
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)


def _numbers(checks: _Checks, field: str, *, required: bool) -> np.ndarray:
    """The column as float64 (NaN where empty); bad text and non-finite values refused."""
    table = checks.source.table
    if field not in table.column_names:
        return np.full(checks.n, np.nan)
    column = table.column(field)
    empty = _nulls(column)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        text_ok = ~_bad_pattern(column, _NUMBER)
        checks.add(field, ~text_ok & ~empty, _shown(checks, field, "not a number"))
        column = pc.if_else(pc.match_substring_regex(column, _NUMBER), column, None)
        column = pc.cast(pc.utf8_trim_whitespace(column), pa.float64())
    elif (
        pa.types.is_integer(column.type)
        or pa.types.is_floating(column.type)
        or pa.types.is_null(column.type)  # a column the file left empty throughout
    ):
        column = pc.cast(column, pa.float64())
    else:
        checks.add(field, np.ones(checks.n, bool), lambda _: f"{column.type} is not a number")
        return np.full(checks.n, np.nan)
    values = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
    if required:
        checks.add(field, empty, lambda _: "is empty")
    checks.add(field, np.isinf(values), _shown(checks, field, "not a finite number"))
    nan_in_file = np.isnan(values) & ~empty
    if not pa.types.is_string(table.column(field).type):
        checks.add(field, nan_in_file, lambda _: "is NaN")
    return values


def _times(checks: _Checks, now: datetime) -> np.ndarray:
    """Settlement times as int64 µs UTC; naive, unparsable, early and future ones refused."""
    column = checks.source.table.column("settlement_ts")
    empty = _nulls(column)
    checks.add("settlement_ts", empty, lambda _: "is empty")
    utc = pa.timestamp("us", tz="UTC")
    if pa.types.is_timestamp(column.type):
        if column.type.tz is None:
            checks.add(
                "settlement_ts",
                np.ones(checks.n, bool),
                lambda _: f"{column.type} has no time zone: settlement times must be UTC",
            )
            return np.zeros(checks.n, np.int64)
        parsed = pc.cast(column, utc)
    elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        iso = ~_bad_pattern(column, _ISO_TIME)
        checks.add(
            "settlement_ts",
            ~iso & ~empty,
            _shown(checks, "settlement_ts", "not an ISO 8601 time with a zone (Z or +00:00)"),
        )
        parsed = _cast_times(checks, pc.if_else(pa.array(iso), column, None), utc)
    else:
        checks.add("settlement_ts", np.ones(checks.n, bool), lambda _: f"{column.type} is no time")
        return np.zeros(checks.n, np.int64)
    micros = pc.fill_null(pc.cast(parsed, pa.int64()), 0).to_numpy(zero_copy_only=False)
    micros = np.asarray(micros, dtype=np.int64)
    early = to_micros(EARLIEST)
    checks.add(
        "settlement_ts",
        (micros < early) & ~empty,
        _shown(checks, "settlement_ts", f"before {EARLIEST:%Y-%m-%d}"),
    )
    checks.add(
        "settlement_ts",
        micros > to_micros(now),
        _shown(checks, "settlement_ts", f"after now ({now:%Y-%m-%d %H:%M} UTC): look-ahead"),
    )
    return micros


def _cast_times(checks: _Checks, column: pa.ChunkedArray, utc: pa.DataType) -> pa.Array:
    """Cast ISO strings; a value the cast refuses (2025-02-30) is found by bisection."""
    array = column.combine_chunks()
    try:
        return pc.cast(array, utc)
    except pa.ArrowInvalid:
        lo, hi = 0, len(array)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            try:
                pc.cast(array.slice(lo, mid - lo), utc)
                lo = mid
            except pa.ArrowInvalid:
                hi = mid
        bad = np.zeros(checks.n, bool)
        bad[lo] = True
        checks.add("settlement_ts", bad, _shown(checks, "settlement_ts", "not a valid time"))
        return pc.cast(pc.if_else(pa.array(~bad), array, None), utc)


def _not_predicted(checks: _Checks) -> None:
    table = checks.source.table
    if "is_predicted" not in table.column_names:
        return
    column = table.column("is_predicted")
    if pa.types.is_boolean(column.type):
        flags = _mask(column) & ~_nulls(column)
        unknown = np.zeros(checks.n, bool)
    else:
        text = pc.utf8_lower(pc.utf8_trim_whitespace(_strings(column)))
        flags = _mask(pc.is_in(text, pa.array(sorted(_TRUE)))) & ~_mask(pc.is_null(text))
        known = pc.is_in(text, pa.array(sorted(_TRUE | _FALSE)))
        unknown = ~_mask(known) & ~_mask(pc.is_null(text)) & ~flags
        checks.add("is_predicted", unknown, _shown(checks, "is_predicted", "not true/false"))
    checks.add(
        "is_predicted",
        flags,
        lambda _: "true: a predicted rate is not a settlement; import realised rates only",
    )


def _no_duplicates(
    checks: _Checks, venue: np.ndarray, base: np.ndarray, margin: np.ndarray, at: np.ndarray
) -> None:
    codes = [pc.dictionary_encode(pa.array(a)).indices.to_numpy() for a in (venue, base, margin)]
    order = np.lexsort((at, *reversed(codes)))
    same = np.ones(len(order) - 1, bool) if len(order) > 1 else np.zeros(0, bool)
    for key in (*codes, at):
        same &= key[order][1:] == key[order][:-1]
    if not same.any():
        return
    k = int(np.argmax(same))
    first, second = sorted((int(order[k]), int(order[k + 1])))
    bad = np.zeros(checks.n, bool)
    bad[second] = True
    checks.add(
        "settlement_ts",
        bad,
        lambda _: (
            f"the same settlement as {checks.source.where(first)} "
            f"({venue[first]} {checks.value('canonical_symbol', first)} "
            f"{checks.value('settlement_ts', first)})"
        ),
    )
    checks.raise_first()

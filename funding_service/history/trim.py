"""Cut a smaller copy of a Hive-layout history dataset (the repository's samples).

Rows are copied as they are (no row is changed, filled or dropped for its values): only
the venues and bases asked for are kept, and only the columns perpbot reads. Left out are
`venue_symbol`, `rate_apr` (derived upstream from rate and interval; perpbot derives it
itself), `contract_type` (always "linear"), `index_price` and `open_interest_usd` (always
empty) and `ingested_at` (upstream bookkeeping). Rows are sorted by symbol and time and the
files written with zstd, which is what makes a year of three venues small.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from funding_service.history.reader import HistoryFileError, history_files

KEPT_COLUMNS = (
    "venue",
    "canonical_symbol",
    "settlement_ts",
    "rate_raw",
    "interval_hours",
    "is_predicted",
    "mark_price",
)


@dataclass(frozen=True, slots=True)
class TrimmedFile:
    path: Path
    rows: int
    symbols: int
    bytes: int


def trim_dataset(
    source: Path, destination: Path, venues: Sequence[str], bases: Sequence[str]
) -> list[TrimmedFile]:
    """Write `destination/venue=<v>/data.parquet` for each of `venues`, rows of `bases`."""
    by_venue = {venue: file for file, venue in history_files(source) if venue is not None}
    missing = [v for v in venues if v not in by_venue]
    if missing:
        raise HistoryFileError(
            f"{source}: no venue={', venue='.join(missing)} folder (has: {', '.join(by_venue)})"
        )
    written = []
    for venue in venues:
        table = pq.read_table(by_venue[venue])
        absent = [c for c in KEPT_COLUMNS if c not in table.column_names]
        if absent:
            raise HistoryFileError(f"{by_venue[venue]}: no column {', '.join(absent)}")
        base = pc.list_element(pc.split_pattern(table.column("canonical_symbol"), "-"), 0)
        table = table.filter(pc.is_in(base, pa.array(list(bases))))
        table = table.select(list(KEPT_COLUMNS)).sort_by(
            [("canonical_symbol", "ascending"), ("settlement_ts", "ascending")]
        )
        target = destination / f"venue={venue}" / "data.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(
            table,
            target,
            compression="zstd",
            compression_level=19,
            use_dictionary=["venue", "canonical_symbol"],
        )
        symbols = len(pc.unique(table.column("canonical_symbol")))
        written.append(TrimmedFile(target, table.num_rows, symbols, target.stat().st_size))
    return written

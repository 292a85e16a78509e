"""Read history files into Arrow tables whose columns carry perpbot's field names.

Layouts: a directory of Hive folders (`venue=<name>/*.parquet`, the shared dataset's
layout), a directory of Parquet files, one Parquet file, or one CSV file (`.csv`, `.csv.gz`).
Nothing is validated here beyond the columns being there (see `validate.py`); every table
remembers its file and how to name a row of it in an error (Parquet: "row N", counted from
1; CSV: "line N" of the file, the header being line 1).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from core.errors import PerpbotError
from funding_service.history.mapping import FIELDS, REQUIRED, ColumnMapping


class HistoryFileError(PerpbotError):
    """A history file cannot be read as history: the message names the file and why."""


@dataclass(frozen=True)
class SourceTable:
    path: Path
    table: pa.Table  # columns named by field; only fields the file (or a constant) gives
    columns: dict[str, str]  # field -> the file's column name (constants: "--venue" etc.)
    is_csv: bool
    # Index in the file of each row of `table` (None: all rows, in order).
    rows: np.ndarray | None = None

    def row_numbers(self) -> np.ndarray:
        if self.rows is not None:
            return self.rows
        return np.arange(self.table.num_rows, dtype=np.int64)

    def where(self, index: int) -> str:
        """How an error names row `index` (0-based) of `table`."""
        in_file = int(self.row_numbers()[index])
        return f"line {in_file + 2}" if self.is_csv else f"row {in_file + 1}"

    def subset(self, keep: np.ndarray) -> SourceTable:
        """The rows where `keep` is true, still named by their place in the file."""
        return replace(self, table=self.table.filter(pa.array(keep)), rows=self.row_numbers()[keep])


def history_files(path: Path) -> list[tuple[Path, str | None]]:
    """The files under `path` with the venue their Hive folder names (None: no folder)."""
    if not path.exists():
        raise HistoryFileError(f"{path}: no such file or directory")
    if path.is_file():
        if not _is_csv(path) and path.suffix != ".parquet":
            raise HistoryFileError(f"{path}: expected a .parquet or .csv file")
        return [(path, _hive_venue(path.parent))]
    found = sorted(path.glob("venue=*/*.parquet")) or sorted(path.glob("*.parquet"))
    if not found:
        raise HistoryFileError(f"{path}: no venue=<name>/*.parquet or *.parquet files in it")
    return [(file, _hive_venue(file.parent)) for file in found]


def read_sources(path: Path, mapping: ColumnMapping) -> Iterator[SourceTable]:
    """Each history file under `path`, its columns renamed to field names."""
    for file, folder_venue in history_files(path):
        yield read_source(file, mapping, folder_venue)


def read_source(path: Path, mapping: ColumnMapping, folder_venue: str | None) -> SourceTable:
    is_csv = _is_csv(path)
    available = _csv_header(path) if is_csv else pq.read_schema(path).names
    wanted: dict[str, str] = {}
    for field in FIELDS:
        column = mapping.column(field)
        if column in available:
            wanted[field] = column
        elif field in mapping.columns:
            raise HistoryFileError(
                f"{path}: no column {column!r} (mapped to {field}); columns: {', '.join(available)}"
            )
    table = _read_csv(path, list(wanted.values())) if is_csv else _read_parquet(path, wanted)
    table = table.rename_columns(list(wanted))
    columns = dict(wanted)
    for field, option, constant in (
        ("venue", "--venue", mapping.venue or folder_venue),
        ("canonical_symbol", "--symbol", mapping.symbol),
    ):
        if field not in columns and constant is not None:
            table = table.append_column(field, pa.array([constant] * table.num_rows, pa.string()))
            columns[field] = option if constant != folder_venue else f"folder venue={constant}"
    missing = [field for field in REQUIRED if field not in columns]
    if missing:
        hint = {"venue": " (or --venue)", "canonical_symbol": " (or --symbol)"}
        needs = ", ".join(f"{field}{hint.get(field, '')}" for field in missing)
        raise HistoryFileError(
            f"{path}: no column for {needs}; columns: {', '.join(available)} "
            "(map them with --map field=column)"
        )
    if folder_venue is not None and "venue" in wanted:
        # The folder names the venue too: the validator checks the column agrees with it.
        table = table.append_column(
            "folder_venue", pa.array([folder_venue] * table.num_rows, pa.string())
        )
    return SourceTable(path, table, columns, is_csv)


def _is_csv(path: Path) -> bool:
    return path.name.endswith((".csv", ".csv.gz"))


def _hive_venue(folder: Path) -> str | None:
    key, sep, value = folder.name.partition("=")
    return value if sep and key == "venue" else None


def _csv_header(path: Path) -> list[str]:
    try:
        reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 16))
    except (pa.ArrowInvalid, OSError) as exc:
        raise HistoryFileError(f"{path}: not readable as CSV ({exc})") from None
    return list(reader.schema.names)


def _read_csv(path: Path, columns: list[str]) -> pa.Table:
    # Everything as text: the validator parses each column itself, so a bad value is
    # reported with its line instead of failing the whole read.
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(columns, pa.string()),
        include_columns=columns,
        strings_can_be_null=True,
    )
    try:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(),
            parse_options=pacsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=False),
            convert_options=convert,
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise HistoryFileError(f"{path}: not readable as CSV ({exc})") from None


def _read_parquet(path: Path, wanted: dict[str, str]) -> pa.Table:
    try:
        return pq.read_table(path, columns=list(wanted.values()))
    except (pa.ArrowInvalid, OSError) as exc:
        raise HistoryFileError(f"{path}: not readable as Parquet ({exc})") from None

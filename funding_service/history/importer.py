"""Import realised funding history into `funding_rates`, all or nothing.

Every row of every file is validated before anything is written; the rows are then stored
in one transaction. Importing the same file again adds nothing (the key is kind, venue,
symbol, margin asset, settlement time); a row whose key is stored with another rate or
interval is an error naming it, and nothing is imported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from core.clock import Clock
from core.errors import PerpbotError
from core.market import FundingKind, SeriesKey
from db.repositories.funding_history import FundingHistoryRepository, SeriesLength
from db.repositories.funding_rates import FundingRateRepository
from db.uow import unit_of_work
from funding_service.history.batch import SettlementBatch, to_micros
from funding_service.history.mapping import ColumnMapping
from funding_service.history.reader import read_sources
from funding_service.history.validate import HistoryRowError, validate


class HistoryConflictError(PerpbotError):
    """An imported settlement is already stored with a different rate or interval."""


@dataclass(frozen=True)
class ImportedSeries:
    length: SeriesLength  # the series as stored after the import
    in_file: int
    new: int


@dataclass(frozen=True)
class ImportReport:
    rows: int
    new: int
    series: list[ImportedSeries]
    skipped: list[HistoryRowError] = field(default_factory=list)


def load_history(
    path: Path,
    mapping: ColumnMapping,
    clock: Clock,
    skipped: list[HistoryRowError] | None = None,
) -> SettlementBatch:
    """Every file under `path`, validated (see `validate.py`) and joined."""
    now = clock.now()
    return SettlementBatch.concat(
        [validate(source, now, skipped) for source in read_sources(path, mapping)]
    )


def store_settlements(batch: SettlementBatch, engine: Engine | None = None) -> ImportReport:
    """Store a validated batch in one transaction; report each series as now stored."""
    rates = batch.to_rates()
    with unit_of_work(engine) as session:
        history = FundingHistoryRepository(session)
        differences = history.differences(rates)
        if differences:
            first = differences[0]
            raise HistoryConflictError(
                f"{_where(batch, first.series, first.at)}: {first.series} settled "
                f"{first.at:%Y-%m-%d %H:%M:%S} is stored with rate {first.stored_rate} per "
                f"{first.stored_interval} h, the file says {first.new_rate} per "
                f"{first.new_interval} h ({len(differences)} such rows at least); "
                "nothing was imported"
            )
        new = FundingRateRepository(session).add_by_series(rates)
        in_file = Counter(r.series for r in rates)
        stored = {s.series: s for s in history.series(kind=FundingKind.REALISED)}
    series = [ImportedSeries(stored[key], in_file[key], new[key]) for key in sorted(in_file)]
    return ImportReport(rows=len(rates), new=sum(new.values()), series=series)


def import_history(
    path: Path,
    mapping: ColumnMapping,
    clock: Clock,
    engine: Engine | None = None,
    *,
    skip_invalid: bool = False,
) -> ImportReport:
    """Validate and store the history under `path` (see the module doc)."""
    skipped: list[HistoryRowError] | None = [] if skip_invalid else None
    batch = load_history(path, mapping, clock, skipped)
    report = store_settlements(batch, engine)
    return ImportReport(report.rows, report.new, report.series, skipped or [])


def load_stored(
    engine: Engine | None,
    since: datetime,
    until: datetime,
    venues: Sequence[str] | None = None,
    symbols: Sequence[str] | None = None,
) -> SettlementBatch:
    """The stored realised settlements paid in [since, until], as a batch (for screening)."""
    with unit_of_work(engine) as session:
        rows = FundingHistoryRepository(session).settlement_columns(since, until, venues, symbols)
    return SettlementBatch.from_rows(rows, "funding_rates")


def _where(batch: SettlementBatch, series: SeriesKey, at: datetime) -> str:
    """Where in the files the settlement of `series` at `at` is."""
    match = np.flatnonzero(
        (batch.venue == series.venue)
        & (batch.symbol == series.symbol)
        & (batch.margin_asset == series.margin_asset)
        & (batch.settled_us == to_micros(at))
    )
    return batch.where(int(match[0])) if len(match) else str(series)

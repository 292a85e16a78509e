"""Which settlements a screen looks at: a time window and optional venues and symbols."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from core.errors import ConfigError
from funding_service.history.batch import EPOCH, SettlementBatch, to_micros


def utc_bounds(
    since: datetime | None, until: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """[since, until] in UTC (a date without a zone is a UTC date); open ends are the epoch
    and now. Nothing after now is ever read."""
    low = EPOCH if since is None else _utc(since)
    high = now if until is None else min(_utc(until), now)
    if low > high:
        raise ConfigError(f"--since {low:%Y-%m-%d %H:%M} is after --until {high:%Y-%m-%d %H:%M}")
    return low, high


def select(
    batch: SettlementBatch,
    since: datetime,
    until: datetime,
    venues: Sequence[str] | None,
    symbols: Sequence[str] | None,
) -> SettlementBatch:
    """The rows settled in [since, until], of `venues` and `symbols` when given."""
    keep = (batch.settled_us >= to_micros(since)) & (batch.settled_us <= to_micros(until))
    if venues is not None:
        keep &= np.isin(batch.venue, list(venues))
    if symbols is not None:
        keep &= np.isin(batch.symbol, list(symbols))
    return batch.subset(keep)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

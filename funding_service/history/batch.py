"""`SettlementBatch`: validated realised settlements as one array per column.

Arrays, not row objects: a year of three venues is a few hundred thousand rows, and the
pre-screen works on them directly. `to_rates()` gives the exact Decimal rows to store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from core.market import FundingKind, FundingRate, SeriesKey
from core.money import to_decimal

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US_PER_HOUR = 3_600_000_000


def to_micros(moment: datetime) -> int:
    """A timezone-aware time as integer microseconds since the epoch (exact)."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class SettlementBatch:
    venue: np.ndarray  # str
    symbol: np.ndarray  # base asset, str
    margin_asset: np.ndarray  # str
    settled_us: np.ndarray  # int64: settlement time (end of the accrual window), µs UTC
    rate: np.ndarray  # float64, per interval (for screening; storage uses `rate_text`)
    interval_hours: np.ndarray  # float64
    mark_price: np.ndarray  # float64, NaN where the file has none
    # The exact text of each rate / mark when the source was text (CSV); None: from doubles,
    # whose shortest repr is exact for what the file holds.
    rate_text: np.ndarray | None
    mark_text: np.ndarray | None
    # Where each row came from, for messages: index into `files` and the row's index there.
    origin_file: np.ndarray  # int
    origin_index: np.ndarray  # int
    files: tuple[tuple[str, bool], ...]  # (path, is CSV)

    def __len__(self) -> int:
        return len(self.rate)

    @classmethod
    def empty(cls) -> SettlementBatch:
        nothing = np.array([], dtype=object)
        return cls(
            nothing,
            nothing,
            nothing,
            np.array([], dtype=np.int64),
            np.array([], dtype=np.float64),
            np.array([], dtype=np.float64),
            np.array([], dtype=np.float64),
            None,
            None,
            np.array([], dtype=np.int64),
            np.array([], dtype=np.int64),
            (),
        )

    @classmethod
    def concat(cls, batches: Sequence[SettlementBatch]) -> SettlementBatch:
        if not batches:
            return cls.empty()
        if len(batches) == 1:
            return batches[0]

        offsets = np.cumsum([0] + [len(b.files) for b in batches[:-1]])

        def texts(name: str, values: str) -> np.ndarray | None:
            if all(getattr(b, name) is None for b in batches):
                return None
            return np.concatenate(
                [
                    getattr(b, name) if getattr(b, name) is not None else _texts(getattr(b, values))
                    for b in batches
                ]
            )

        def joined(name: str) -> np.ndarray:
            return np.concatenate([getattr(b, name) for b in batches])

        return cls(
            joined("venue"),
            joined("symbol"),
            joined("margin_asset"),
            joined("settled_us"),
            joined("rate"),
            joined("interval_hours"),
            joined("mark_price"),
            texts("rate_text", "rate"),
            texts("mark_text", "mark_price"),
            np.concatenate([b.origin_file + k for k, b in zip(offsets, batches, strict=True)]),
            np.concatenate([b.origin_index for b in batches]),
            tuple(f for b in batches for f in b.files),
        )

    @classmethod
    def from_rows(
        cls, rows: Sequence[tuple[str, str, str, int, float, float, float | None]], label: str
    ) -> SettlementBatch:
        """A batch of stored settlements (venue, symbol, margin, µs, rate, interval, mark)."""
        if not rows:
            return cls.empty()
        venue, symbol, margin, micros, rate, hours, mark = zip(*rows, strict=True)
        return cls(
            np.array(venue, dtype=object),
            np.array(symbol, dtype=object),
            np.array(margin, dtype=object),
            np.array(micros, dtype=np.int64),
            np.array(rate, dtype=np.float64),
            np.array(hours, dtype=np.float64),
            np.array([np.nan if m is None else m for m in mark], dtype=np.float64),
            None,
            None,
            np.zeros(len(rows), np.int64),
            np.arange(len(rows), dtype=np.int64),
            ((label, False),),
        )

    def subset(self, keep: np.ndarray) -> SettlementBatch:
        """The rows where `keep` is true."""

        def part(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else values[keep]

        return SettlementBatch(
            self.venue[keep],
            self.symbol[keep],
            self.margin_asset[keep],
            self.settled_us[keep],
            self.rate[keep],
            self.interval_hours[keep],
            self.mark_price[keep],
            part(self.rate_text),
            part(self.mark_text),
            self.origin_file[keep],
            self.origin_index[keep],
            self.files,
        )

    def where(self, i: int) -> str:
        """Row `i`'s place in its file, as an error names it."""
        path, is_csv = self.files[int(self.origin_file[i])]
        index = int(self.origin_index[i])
        return f"{path}: line {index + 2}" if is_csv else f"{path}: row {index + 1}"

    def series_keys(self) -> list[SeriesKey]:
        return sorted(
            {
                SeriesKey(v, s, m)
                for v, s, m in zip(self.venue, self.symbol, self.margin_asset, strict=True)
            }
        )

    def to_rates(self) -> list[FundingRate]:
        """The rows as realised `FundingRate`s, rates and marks exact in Decimal."""
        rates = self._rates()
        marks = self._decimals(self.mark_text, self.mark_price, "mark_price")
        intervals = {float(h): to_decimal(float(h)).normalize() for h in set(self.interval_hours)}
        return [
            FundingRate(
                venue=str(self.venue[i]),
                symbol=str(self.symbol[i]),
                rate=rates[i],
                interval_hours=intervals[float(self.interval_hours[i])],
                next_funding_time=None,
                mark_price=marks[i],
                timestamp=EPOCH + timedelta(microseconds=int(self.settled_us[i])),
                margin_asset=str(self.margin_asset[i]),
                kind=FundingKind.REALISED,
            )
            for i in range(len(self))
        ]

    def _rates(self) -> list[Decimal]:
        """The rates in Decimal. Validation requires one in every row; `to_decimal` would
        refuse a gap by name rather than let a None through."""
        if self.rate_text is not None:
            return [to_decimal(str(t), "rate_raw") for t in self.rate_text]
        return [to_decimal(float(v), "rate_raw") for v in self.rate]

    @staticmethod
    def _decimals(text: np.ndarray | None, values: np.ndarray, what: str) -> list[Decimal | None]:
        if text is not None:
            return [None if t is None else to_decimal(str(t), what) for t in text]
        return [None if np.isnan(v) else to_decimal(float(v), what) for v in values]


def _texts(values: np.ndarray) -> np.ndarray:
    """Doubles as their shortest exact text (NaN: None), to join a batch read from text."""
    return np.array([None if np.isnan(x) else repr(float(x)) for x in values], dtype=object)

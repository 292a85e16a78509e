"""A backtest request from start to report: load once, run every variant, build the report.

`BacktestRequest` is plain data (JSON-able with `to_json`), so a sweep's Celery task gets the
same request and runs one variant of it (`run_piece`); the in-process path runs them all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from backtest import engine
from backtest.history import BacktestData, load_data
from backtest.metrics import measure
from backtest.report import ReportHeader, report_json, run_piece
from backtest.variants import Sweep, Variant, variants
from core.clock import Clock
from funding_service.history.validate import HistoryRowError
from strategies.factory import load_strategy_config

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BacktestRequest:
    config: Path
    data: Path
    start: datetime
    end: datetime
    policies: tuple[str, ...] = ()
    sweeps: tuple[Sweep, ...] = ()
    capital_usd: Decimal = Decimal(10_000)
    margin: dict[str, str] = field(default_factory=dict)
    skip_invalid: bool = False

    def variants(self) -> list[Variant]:
        return variants(self.policies, self.sweeps)

    def to_json(self) -> dict[str, Any]:
        return {
            "config": str(self.config),
            "data": str(self.data),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "policies": list(self.policies),
            "sweeps": [[s.path, list(s.values)] for s in self.sweeps],
            "capital_usd": str(self.capital_usd),
            "margin": dict(self.margin),
            "skip_invalid": self.skip_invalid,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BacktestRequest:
        return cls(
            Path(data["config"]),
            Path(data["data"]),
            datetime.fromisoformat(data["start"]),
            datetime.fromisoformat(data["end"]),
            tuple(data["policies"]),
            tuple(Sweep(path, tuple(values)) for path, values in data["sweeps"]),
            Decimal(data["capital_usd"]),
            dict(data["margin"]),
            bool(data["skip_invalid"]),
        )

    def digest(self) -> str:
        """Names the request (run and sweep ids): the same request, the same digest."""
        text = json.dumps(self.to_json(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:10]


def strategy_data(request: BacktestRequest) -> dict[str, Any]:
    """The config as validated data (defaults filled in), the base every variant changes."""
    config = load_strategy_config(request.config)
    data: dict[str, Any] = config.model_dump(mode="json")
    return data


def load(request: BacktestRequest, clock: Clock, skipped: list[HistoryRowError]) -> BacktestData:
    base = strategy_data(request)
    config = load_strategy_config(base, source_name=str(request.config))
    venues = [venue for venue, _account in config.venue_accounts()]
    symbols = list(base.get("symbols") or [base["symbol"]])
    return load_data(
        request.data,
        venues,
        symbols,
        request.start,
        request.end,
        clock,
        request.margin,
        skipped if request.skip_invalid else None,
    )


def run_variant(
    request: BacktestRequest,
    variant: Variant,
    data: BacktestData,
    progress: engine.Progress | None = None,
) -> dict[str, Any]:
    """One variant's report piece."""
    result = engine.run(
        variant.key,
        variant.apply(strategy_data(request)),
        data,
        capital_usd=request.capital_usd,
        source_name=f"{request.config} ({variant.key})",
        progress=progress,
    )
    return run_piece(measure(result), result)


def header(request: BacktestRequest, data: BacktestData, created_at: datetime) -> ReportHeader:
    base = load_strategy_config(strategy_data(request))
    entry = getattr(base, "entry", None)
    return ReportHeader(
        run_id=f"{created_at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{request.digest()}",
        created_at=created_at.astimezone(UTC),
        config=str(request.config),
        data=str(request.data),
        start=request.start,
        end=request.end,
        price_proxy=data.price_proxy,
        margin_assets=data.margin_assets,
        threshold_apr=str(entry.min_apr) if entry is not None else None,
    )


def run_in_process(
    request: BacktestRequest, clock: Clock, progress: Progress | None = None
) -> tuple[dict[str, Any], list[HistoryRowError]]:
    """Every variant, one after the other, in this process: (report document, skipped rows)."""
    skipped: list[HistoryRowError] = []
    data = load(request, clock, skipped)
    pieces = []
    for variant in request.variants():
        step = None if progress is None else _named(progress, variant.key)
        pieces.append(run_variant(request, variant, data, step))
    return report_json(header(request, data, clock.now()), pieces), skipped


def assemble(
    request: BacktestRequest,
    data: BacktestData,
    created_at: datetime,
    pieces: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    return report_json(header(request, data, created_at), pieces)


def _named(progress: Progress, key: str) -> engine.Progress:
    return lambda done, total: progress(key, done, total)

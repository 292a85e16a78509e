"""The backtester's reports: `<dir>/<run_id>/report.json` and `report.html`, as
`trading_bot.py backtest` writes them (dir: `PERPBOT_BACKTEST_DIR`, else `.run/backtests`).

The files come from outside the database, so each is validated where it is read: a run id
must be a plain name inside the directory (no path, no dot-dot, no link out of it), and a
`report.json` that is not the backtester's layout is shown as "unreadable: <why>", never
as a half-read row. Parsed summaries are kept per file (name, mtime, size), so the list
re-reads only reports that changed.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

# What `backtest/runner.py` names a run ("20260101T000000Z-<digest>"), and more: letters,
# digits, dot, dash, underscore; never a leading dot (hidden, "." or "..").
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
MAX_REPORT_BYTES = 64 * 1024 * 1024


def _decimal_string(value: object) -> object:
    # Money is written as Decimal strings; a float would already have lost digits.
    if not isinstance(value, str):
        raise ValueError(f"a decimal string, not {type(value).__name__}")
    return value


DecimalString = Annotated[Decimal, BeforeValidator(_decimal_string)]


class PolicySummary(BaseModel):
    """One policy's line of the report (the keys the dashboard shows; others are kept in
    the file and the HTML)."""

    model_config = ConfigDict(frozen=True, extra="ignore", allow_inf_nan=False)

    policy: str = Field(min_length=1)
    net_pnl: DecimalString
    funding_received: DecimalString
    funding_paid: DecimalString
    fees: DecimalString
    slippage: DecimalString
    opens: int = Field(ge=0, strict=True)
    closes: int = Field(ge=0, strict=True)
    switches: int = Field(ge=0, strict=True)
    time_in_market_hours: Decimal = Field(ge=0)
    apr_on_capital: DecimalString
    max_drawdown: DecimalString
    worst_unhedged_usd: DecimalString


class ReportSummary(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    run_id: str
    created_at: AwareDatetime
    config: str
    data: str
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    price_proxy: str | None
    policies: list[PolicySummary] = Field(min_length=1)

    @field_validator("created_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @property
    def best(self) -> PolicySummary:
        """The policy with the highest net PnL."""
        return max(self.policies, key=lambda p: p.net_pnl)


@dataclass(frozen=True, slots=True)
class BacktestRun:
    """A run's directory: its summary, or why it cannot be read."""

    run_id: str
    linkable: bool  # the name is a valid run id (the detail page can be opened)
    summary: ReportSummary | None
    unreadable: str | None
    has_html: bool


class NotARun(Exception):
    """The name is not a run id, or no run of that name is in the directory."""


def valid_run_id(run_id: str) -> bool:
    return RUN_ID.fullmatch(run_id) is not None


class BacktestReports:
    """The reports under one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._parsed: dict[str, tuple[tuple[int, int], ReportSummary | str]] = {}

    def runs(self) -> list[BacktestRun]:
        """Every run in the directory, newest first."""
        if not self.directory.is_dir():
            return []
        found = []
        for entry in self.directory.iterdir():
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            if not valid_run_id(entry.name):
                found.append(BacktestRun(entry.name, False, None, "not a run id", False))
                continue
            found.append(self._read(entry.name))
        with self._lock:  # forget the reports of runs that were removed
            for gone in self._parsed.keys() - {run.run_id for run in found}:
                del self._parsed[gone]
        readable = sorted(
            ((r.summary.created_at, r.run_id, r) for r in found if r.summary is not None),
            key=lambda item: item[:2],
            reverse=True,
        )
        unreadable = sorted((r for r in found if r.summary is None), key=lambda r: r.run_id)
        return [run for _, _, run in readable] + unreadable

    def run(self, run_id: str) -> BacktestRun:
        """One run by id; NotARun for anything that is not a run directory here."""
        return self._read(self._folder(run_id).name)

    def html_path(self, run_id: str) -> Path:
        """The run's report.html; NotARun when the run or its HTML is not there."""
        path = self._folder(run_id) / "report.html"
        if not self._inside(path) or not path.is_file():
            raise NotARun(f"run {run_id} has no report.html")
        return path

    def _folder(self, run_id: str) -> Path:
        if not valid_run_id(run_id):
            raise NotARun(f"{run_id!r} is not a run id")
        folder = self.directory / run_id
        if not self._inside(folder) or not folder.is_dir():
            raise NotARun(f"no backtest run {run_id}")
        return folder

    def _inside(self, path: Path) -> bool:
        """The path, links resolved, is within the directory (a link may not lead out)."""
        try:
            path.resolve(strict=True).relative_to(self.directory.resolve(strict=True))
        except (OSError, ValueError):
            return False
        return True

    def _read(self, run_id: str) -> BacktestRun:
        folder = self.directory / run_id
        report = folder / "report.json"
        has_html = self._inside(folder / "report.html") and (folder / "report.html").is_file()
        if not self._inside(report) or not report.is_file():
            return BacktestRun(run_id, True, None, "no report.json", has_html)
        stat = report.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._parsed.get(run_id)
        if cached is not None and cached[0] == stamp:
            parsed = cached[1]
        else:
            parsed = _parse(report, run_id, stat.st_size)
            with self._lock:
                self._parsed[run_id] = (stamp, parsed)
        if isinstance(parsed, str):
            return BacktestRun(run_id, True, None, parsed, has_html)
        return BacktestRun(run_id, True, parsed, None, has_html)


def _parse(report: Path, run_id: str, size: int) -> ReportSummary | str:
    """The summary, or why the file is not one."""
    if size > MAX_REPORT_BYTES:
        return f"report.json is {size:,} bytes (more than {MAX_REPORT_BYTES:,})"
    try:
        document: Any = json.loads(report.read_bytes())
    except (OSError, UnicodeDecodeError) as error:
        return f"report.json cannot be read: {error}"
    except json.JSONDecodeError as error:
        return f"report.json is not JSON: {error}"
    if not isinstance(document, dict):
        return f"report.json holds a {type(document).__name__}, not an object"
    try:
        summary = ReportSummary.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "report"
        more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
        return f"{where}: {first['msg']}{more}"
    if summary.run_id != run_id:
        return f"run_id {summary.run_id!r} is not its directory's name"
    return summary

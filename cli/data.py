"""`trading_bot.py data ...`: funding history in (import, fetch), what is stored, the screen.

A bad row or file is bad input (exit code 2) and nothing is imported; a venue that cannot
be reached is a failure (exit code 1).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from cli.common import EXIT_BAD_INPUT, console, fail, one_line_errors

if TYPE_CHECKING:  # the CLI imports the funding service only when a command runs
    from funding_service.history.mapping import ColumnMapping

app = typer.Typer(
    help="Funding history: import, fetch, list what is stored, pre-screen spreads.",
    no_args_is_help=True,
)


def _bad_input(outcome: str = "") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A bad file, row or mapping is bad input (exit 2), reported in one line ending with
    `outcome` (what did not happen because of it)."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from funding_service.history.errors import HISTORY_INPUT_ERRORS

            try:
                return func(*args, **kwargs)
            except HISTORY_INPUT_ERRORS as exc:
                raise fail(f"{exc}{outcome}", EXIT_BAD_INPUT) from None

        return wrapper

    return decorate


_NOTHING_IMPORTED = "; nothing was imported"


def _mapping(
    map_option: str | None, mapping_file: Path | None, venue: str | None, symbol: str | None
) -> ColumnMapping:
    from funding_service.history.mapping import (
        ColumnMapping,
        load_mapping_file,
        parse_map_option,
    )

    mapping = load_mapping_file(mapping_file) if mapping_file else ColumnMapping()
    if map_option:
        mapping = mapping.merged(parse_map_option(map_option))
    return mapping.merged(ColumnMapping(venue=venue, symbol=symbol))


def _time(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M}"


def _series_table(
    title: str, lengths: list[Any], extra: dict[str, list[str]] | None = None
) -> Table:
    table = Table(title=title, title_justify="left")
    columns = ["venue", "symbol", "margin", *(extra or {}), "rows", "first", "last"]
    columns += ["expected", "missing", "gaps", "interval h"]
    for column in columns:
        table.add_column(column, justify="left" if column in columns[:3] else "right")
    for k, s in enumerate(lengths):
        table.add_row(
            s.series.venue,
            s.series.symbol,
            s.series.margin_asset,
            *(values[k] for values in (extra or {}).values()),
            f"{s.rows:,}",
            _time(s.first),
            _time(s.last),
            f"{s.expected:,}",
            f"{s.missing:,}",
            str(s.gaps),
            "/".join(str(i) for i in s.intervals),
        )
    return table


@app.command("import")
@one_line_errors
@_bad_input(_NOTHING_IMPORTED)
def import_command(
    path: Path = typer.Argument(..., help="Parquet (file or venue=<name>/ folders) or CSV."),
    map_option: str | None = typer.Option(
        None, "--map", help="field=column,... e.g. settlement_ts=time,rate_raw=rate"
    ),
    mapping_file: Path | None = typer.Option(None, "--mapping", help="YAML: columns/venue/symbol."),
    venue: str | None = typer.Option(None, "--venue", help="Venue of every row (no column)."),
    symbol: str | None = typer.Option(
        None, "--symbol", help="Canonical symbol of every row, e.g. BTC-USDT-PERP (no column)."
    ),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Leave bad rows out (each is listed) instead of refusing."
    ),
) -> None:
    """Import realised funding settlements: every row checked, all or nothing, idempotent."""
    from core.clock import clock_from_settings
    from db.engine import get_engine
    from funding_service.history.importer import import_history

    report = import_history(
        path,
        _mapping(map_option, mapping_file, venue, symbol),
        clock_from_settings(),
        get_engine(),
        skip_invalid=skip_invalid,
    )
    for error in report.skipped[:20]:
        console.print(f"[yellow]skipped[/yellow] {error}", highlight=False, soft_wrap=True)
    if len(report.skipped) > 20:
        console.print(f"[yellow]skipped[/yellow] ... {len(report.skipped) - 20} more")
    lengths = [s.length for s in report.series]
    extra = {
        "in file": [f"{s.in_file:,}" for s in report.series],
        "new": [f"{s.new:,}" for s in report.series],
    }
    console.print(_series_table(f"Imported {path}", lengths, extra))
    console.print(
        f"{report.rows:,} rows read, {report.new:,} new, "
        f"{report.rows - report.new:,} already stored, {len(report.skipped)} skipped",
        highlight=False,
    )


@app.command("fetch")
@one_line_errors
@_bad_input(_NOTHING_IMPORTED)
def fetch_command(
    venue: str = typer.Option(..., "--venue", help="The venue's ccxt id, e.g. binance."),
    symbol: str = typer.Option(
        ..., "--symbol", help="BTC-USDT-PERP, a ccxt symbol (BTC/USDT:USDT) or a base (BTC)."
    ),
    since: datetime = typer.Option(..., "--since", help="UTC date, e.g. 2025-09-01."),
    until: datetime | None = typer.Option(None, "--until", help="UTC date; default now."),
) -> None:
    """Fetch realised settlements through ccxt (paged) and store them like an import."""
    from core.clock import clock_from_settings
    from db.engine import get_engine
    from exchanges.base import TransientExchangeError
    from exchanges.ccxt_venues import make_public_exchange
    from funding_service.history.fetch import fetch_settlements
    from funding_service.history.importer import store_settlements
    from funding_service.history.window import utc_bounds

    clock = clock_from_settings()
    low, high = utc_bounds(since, until, clock.now())
    try:
        exchange = make_public_exchange(venue)
    except AttributeError:
        raise fail(f"--venue {venue!r}: not a ccxt exchange id", EXIT_BAD_INPUT) from None
    try:
        batch = fetch_settlements(exchange, venue, symbol, low, high, clock)
    except TransientExchangeError as exc:
        raise fail(f"cannot reach {venue} (is there network access?): {exc}", 1) from None
    if len(batch) == 0:
        raise fail(
            f"{venue} returned no {symbol} settlements between {low:%Y-%m-%d} and "
            f"{high:%Y-%m-%d %H:%M}",
            1,
        )
    report = store_settlements(batch, get_engine())
    lengths = [s.length for s in report.series]
    extra = {
        "fetched": [f"{s.in_file:,}" for s in report.series],
        "new": [f"{s.new:,}" for s in report.series],
    }
    console.print(_series_table(f"Fetched {venue} {symbol}", lengths, extra))
    console.print(f"{report.rows:,} settlements fetched, {report.new:,} new", highlight=False)


@app.command("list")
@one_line_errors
def list_command(
    venue: str | None = typer.Option(None, "--venue"),
    symbol: str | None = typer.Option(None, "--symbol", help="Base asset, e.g. BTC."),
    margin: str | None = typer.Option(None, "--margin", help="USDT, USDC or USD."),
) -> None:
    """The stored realised series with their history length and gaps."""
    from core.market import FundingKind
    from db.engine import get_engine
    from db.repositories.funding_history import FundingHistoryRepository
    from db.uow import unit_of_work

    with unit_of_work(get_engine()) as session:
        lengths = FundingHistoryRepository(session).series(
            kind=FundingKind.REALISED, venue=venue, symbol=symbol, margin_asset=margin
        )
    if not lengths:
        raise fail("no funding history stored: `trading_bot.py data import PATH` first", 1)
    console.print(_series_table("Stored funding history (realised settlements)", lengths))


@app.command("trim")
@one_line_errors
@_bad_input()
def trim_command(
    source: Path = typer.Argument(..., help="A dataset in venue=<name>/ folders."),
    destination: Path = typer.Argument(..., help="Where to write the trimmed copy."),
    venues: str = typer.Option("binance,bybit,hyperliquid", "--venues"),
    bases: str = typer.Option("BTC,ETH,SOL", "--bases", help="Base assets, comma-separated."),
) -> None:
    """Write a trimmed copy of a dataset (how the repository's samples are made)."""
    from funding_service.history.trim import trim_dataset

    written = trim_dataset(
        source,
        destination,
        [v.strip() for v in venues.split(",") if v.strip()],
        [b.strip() for b in bases.split(",") if b.strip()],
    )
    for item in written:
        console.print(
            f"{item.path}: {item.rows:,} rows, {item.symbols} symbols, {item.bytes:,} bytes",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"total {sum(i.bytes for i in written):,} bytes", highlight=False)


def _names(text: str | None) -> list[str] | None:
    return [n.strip() for n in text.split(",") if n.strip()] if text else None


@app.command("screen")
@one_line_errors
@_bad_input()
def screen_command(
    path: Path | None = typer.Option(
        None, "--path", help="Screen files (as `data import` reads them) instead of the store."
    ),
    fees_bps: float = typer.Option(22.0, "--fees-bps", min=0, help="Round trip, both legs."),
    horizon_days: float = typer.Option(
        7.0, "--horizon-days", min=0.01, help="Fees paid back within this holding time."
    ),
    min_apr: float = typer.Option(0.0, "--min-apr", min=0, help="Minimum spread, APR percent."),
    symbols: str | None = typer.Option(None, "--symbols", help="Bases, e.g. BTC,ETH."),
    venues: str | None = typer.Option(None, "--venues", help="e.g. binance,hyperliquid."),
    since: datetime | None = typer.Option(None, "--since", help="UTC date, e.g. 2026-01-01."),
    until: datetime | None = typer.Option(None, "--until", help="UTC date (inclusive)."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="Pairs shown (best share first)."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="With --path: skip bad rows."),
) -> None:
    """Per (symbol, long, short) pair: share of hours the spread beats the threshold, and
    how long it stays there (median and longest run). See docs/funding-history.md."""
    import time

    from core.clock import clock_from_settings
    from funding_service.history.importer import load_history, load_stored
    from funding_service.history.mapping import ColumnMapping
    from funding_service.history.screen import ScreenParams, screen
    from funding_service.history.window import select, utc_bounds

    params = ScreenParams(fees_bps=fees_bps, horizon_days=horizon_days, min_apr_pct=min_apr)
    started = time.perf_counter()
    low, high = utc_bounds(since, until, clock_from_settings().now())
    if path is not None:
        skipped: list[Any] | None = [] if skip_invalid else None
        batch = load_history(path, ColumnMapping(), clock_from_settings(), skipped)
        batch = select(batch, low, high, _names(venues), _names(symbols))
        if skipped:
            console.print(f"[yellow]skipped {len(skipped)} bad rows[/yellow]: {skipped[0]}")
    else:
        from db.engine import get_engine

        batch = load_stored(get_engine(), low, high, _names(venues), _names(symbols))
    if len(batch) == 0:
        raise fail("no realised funding history to screen (import some, or check the filters)", 1)
    results = screen(batch, params)
    seconds = time.perf_counter() - started
    table = Table(
        title=f"Spread persistence: threshold {params.threshold_hourly * 8760 * 100:.2f}% APR "
        f"({fees_bps:g} bps round trip over {horizon_days:g} d, min {min_apr:g}% APR)",
        title_justify="left",
    )
    for column in (
        "symbol",
        "long",
        "short",
        "hours",
        "share above",
        "runs",
        "median run h",
        "longest run h",
        "longest d",
        "mean APR above",
    ):
        table.add_column(
            column, justify="left" if column in ("symbol", "long", "short") else "right"
        )
    for r in results[:limit]:
        table.add_row(
            r.symbol,
            str(r.long),
            str(r.short),
            f"{r.hours:,}",
            f"{r.share * 100:.1f}%",
            f"{r.runs:,}",
            f"{r.median_run_hours:g}",
            f"{r.longest_run_hours:,}",
            f"{r.longest_run_hours / 24:.1f}",
            f"{r.mean_apr_above * 100:.1f}%",
        )
    console.print(table)
    console.print(
        f"{len(results)} pairs from {len(batch):,} settlements screened in {seconds:.2f} s",
        highlight=False,
    )

"""`trading_bot.py backtest CONFIG --data PATH --from D --to D`: the strategy through history.

Prints every run side by side and the pairs traded, writes `<out>/<run_id>/report.json` and
`report.html` (docs/backtesting.md). With `--sweep` the combinations run as Celery tasks
when a broker answers (results kept in PostgreSQL by sweep id and combination), else in
this process.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cli.common import EXIT_BAD_INPUT, console, fail, one_line_errors

SWEEP_TIMEOUT_SECONDS = 1800.0

if TYPE_CHECKING:
    from backtest.runner import BacktestRequest


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _margins(values: list[str]) -> dict[str, str]:
    found = {}
    for text in values:
        venue, sep, asset = text.partition("=")
        if not sep or not venue or not asset:
            raise fail(f"--margin {text!r}: expected venue=ASSET, e.g. binance=USDC")
        found[venue.strip()] = asset.strip().upper()
    return found


@one_line_errors
def backtest(
    config: Path = typer.Argument(..., help="Strategy config YAML (e.g. configs/backtest/...)."),
    data: Path = typer.Option(..., "--data", help="History: as `data import` reads it."),
    since: datetime = typer.Option(..., "--from", help="UTC date the run starts."),
    until: datetime = typer.Option(..., "--to", help="UTC date the run ends (exclusive)."),
    policy: list[str] = typer.Option(
        [], "--policy", help="Rebalance policy by name (repeat to compare); default: the config's."
    ),
    sweep: list[str] = typer.Option(
        [], "--sweep", help="path=v1,v2: run each value (several: every combination)."
    ),
    out: Path | None = typer.Option(None, "--out", help="Report folder (default .run/backtests)."),
    capital: str = typer.Option("10000", "--capital", help="USD deposited on each venue."),
    margin: list[str] = typer.Option(
        [], "--margin", help="venue=ASSET: the margin asset traded there (default USDT, else USDC)."
    ),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Leave bad rows out."),
    in_process: bool = typer.Option(
        False, "--in-process", help="Run sweeps here even when a broker answers."
    ),
) -> None:
    """Replay funding history through the real strategy on simulated venues."""
    from backtest.runner import BacktestRequest
    from backtest.variants import Sweep

    try:
        capital_usd = Decimal(capital)
    except InvalidOperation:
        raise fail(f"--capital {capital!r}: not a number") from None
    if capital_usd <= 0:
        raise fail("--capital must be positive")
    request = BacktestRequest(
        config=config,
        data=data,
        start=_utc(since),
        end=_utc(until),
        policies=tuple(policy),
        sweeps=tuple(Sweep.parse(s) for s in sweep),
        capital_usd=capital_usd,
        margin=_margins(margin),
        skip_invalid=skip_invalid,
    )
    _run(request, out, distributed=bool(sweep) and not in_process)


def _run(request: BacktestRequest, out: Path | None, *, distributed: bool) -> None:
    from backtest.report import pairs_table, policy_table, write_report
    from core.clock import clock_from_settings
    from core.settings import get_settings
    from funding_service.history.errors import HISTORY_INPUT_ERRORS

    clock = clock_from_settings()
    try:
        request.variants()  # a bad --policy or --sweep fails before any data is read
        if distributed:
            document, skipped = _distributed(request, clock)
        else:
            document, skipped = _local(request, clock)
    except HISTORY_INPUT_ERRORS as exc:
        raise fail(f"{exc}; nothing was run", EXIT_BAD_INPUT) from None
    if skipped:
        console.print(f"[yellow]skipped {len(skipped)} bad rows[/yellow]: {skipped[0]}")
    console.print(policy_table(document))
    pairs = pairs_table(document)
    if pairs is not None:
        console.print(pairs)
    proxy = document["price_proxy"]
    console.print(f"prices: {proxy or 'each venue its own mark prices'}", highlight=False)
    folder = write_report(out or get_settings().backtests_path, document)
    console.print(f"report: {folder / 'report.json'} and {folder / 'report.html'}")


def _local(request: BacktestRequest, clock: Any) -> tuple[dict[str, Any], list[Any]]:
    from backtest.runner import run_in_process

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} h"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(key: str, done: int, total: int) -> None:
            if key not in tasks:
                tasks[key] = bar.add_task(key, total=total)
            if done % 24 == 0 or done == total:  # redraw once a simulated day
                bar.update(tasks[key], completed=done)

        return run_in_process(request, clock, progress)


def _distributed(request: BacktestRequest, clock: Any) -> tuple[dict[str, Any], list[Any]]:
    from backtest.sweep import gather, sweep_id
    from tasks.backtest_tasks import broker_available, enqueue_sweep

    if not broker_available():
        console.print("[yellow]no broker answers: the sweep runs in this process[/yellow]")
        return _local(request, clock)
    sent = enqueue_sweep(request)
    total = len(request.variants())
    console.print(
        f"{sweep_id(request)}: {len(sent)} of {total} combinations sent to the workers "
        f"({total - len(sent)} already stored)"
    )
    with console.status("sweep: waiting for the workers' results"):
        return gather(request, clock, timeout_seconds=SWEEP_TIMEOUT_SECONDS)

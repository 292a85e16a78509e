"""`trading_bot.py venues check [VENUE ...]`: what works on each real venue, read-only.

For a user with network access (and credentials for the private reads): the markets,
funding, order book, balance and positions of each venue through the ccxt adapter, one line
per capability: what works, what is refused and why (the venue's quirks), what failed. Nothing
is placed, cancelled or withdrawn. Without credentials the private reads are skipped, named.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ccxt
import typer
from rich.table import Table

from cli.common import EXIT_FAILED, console, fail, one_line_errors

if TYPE_CHECKING:
    from core.market import FundingRate, TopOfBook
    from exchanges.base import Balance
    from exchanges.ccxt_client import CcxtExchangeClient

app = typer.Typer(help="Real venues through ccxt (read-only checks).", no_args_is_help=True)

OK, REFUSED, FAILED, SKIPPED = "ok", "refused", "failed", "skipped"
CHECKED = ("instruments", "funding_rates", "order_book", "balance", "positions")
PRIVATE = ("balance", "positions")


@dataclass(frozen=True, slots=True)
class CheckLine:
    venue: str
    capability: str
    result: str  # ok / refused / failed / skipped
    detail: str


def check_venue(
    venue: str, client: CcxtExchangeClient, symbol: str, missing: Sequence[str] = ()
) -> list[CheckLine]:
    """Run the read-only checks on one venue's `CcxtExchangeClient`; `missing` names the
    credentials that are not set (the private reads are skipped then)."""
    from exchanges.base import CapabilityNotSupportedError, ExchangeError

    calls: dict[str, Callable[[], str]] = {
        "instruments": lambda: f"{len(client.instruments())} perpetuals",
        "funding_rates": lambda: _rate(client.funding_rates([symbol])),
        "order_book": lambda: _book(client.top_of_book(symbol)),
        "balance": lambda: _balance(client.balance()),
        "positions": lambda: f"{len(client.positions())} open",
    }
    lines = []
    for capability in CHECKED:
        if capability in PRIVATE and missing:
            detail = f"no credentials: set {', '.join(missing)}"
            lines.append(CheckLine(venue, capability, SKIPPED, detail))
            continue
        try:
            lines.append(CheckLine(venue, capability, OK, calls[capability]()))
        except CapabilityNotSupportedError as exc:
            lines.append(CheckLine(venue, capability, REFUSED, _without_venue(venue, exc)))
        except ExchangeError as exc:
            lines.append(CheckLine(venue, capability, FAILED, _without_venue(venue, exc)))
    return lines


def _without_venue(venue: str, exc: Exception) -> str:
    return str(exc).removeprefix(f"{venue}: ")


def _rate(rates: Sequence[FundingRate]) -> str:
    [rate] = rates
    return (
        f"{rate.symbol} {rate.rate} per {rate.interval_hours} h "
        f"({rate.apr * 100:.2f} % APR) at {rate.timestamp:%Y-%m-%d %H:%M} UTC"
    )


def _book(book: TopOfBook) -> str:
    return f"{book.symbol} {book.bid} / {book.ask}"


def _balance(balance: Balance) -> str:
    return f"{balance.total} {balance.asset} equity, {balance.available} available"


def _build(
    venues: Sequence[str], prebuilt: Mapping[str, ccxt.Exchange], timeout_ms: int
) -> dict[str, tuple[ccxt.Exchange, list[str]]]:
    """Each venue's exchange object and the credential variables it still needs."""
    import os

    from exchanges.ccxt_venues import (
        CREDENTIAL_FIELDS,
        credential_env_name,
        credentials_from_env,
        make_ccxt_exchange,
        missing_credentials,
    )
    from exchanges.venues import venue_profile

    built: dict[str, tuple[ccxt.Exchange, list[str]]] = {}
    for venue in venues:
        if venue in prebuilt:
            built[venue] = (prebuilt[venue], [])
            continue
        credentials = credentials_from_env(venue, os.environ)
        exchange = make_ccxt_exchange(venue_profile(venue).ccxt_id, credentials, timeout_ms)
        missing = missing_credentials(venue, exchange, credentials)
        if not credentials:
            missing = missing or [credential_env_name(venue, f) for f in CREDENTIAL_FIELDS]
        built[venue] = (exchange, missing)
    return built


@app.command("check")
@one_line_errors
def check(
    ctx: typer.Context,
    venues: list[str] = typer.Argument(None, help="Venues to check (default: all)."),
    symbol: str = typer.Option("BTC", "--symbol", help="Base asset for funding and the book."),
    timeout_ms: int = typer.Option(10_000, "--timeout-ms", min=1_000, max=120_000),
) -> None:
    """Read markets, funding, book, balance and positions from each venue; print what works
    and what is refused and why. Exit code 1 if a check failed (refusals are not failures)."""
    from core.clock import clock_from_settings
    from exchanges.ccxt_client import CcxtExchangeClient
    from exchanges.venue_quirks import all_quirks

    known = sorted(all_quirks())
    chosen = list(venues) or known
    unknown = [v for v in chosen if v not in known]
    if unknown:
        raise fail(f"unknown venue {', '.join(unknown)}; known: {', '.join(known)}")
    obj = ctx.obj or {}
    clock = obj.get("clock") or clock_from_settings()
    lines = []
    built = _build(chosen, obj.get("exchanges", {}), timeout_ms)
    for venue, (exchange, missing) in built.items():
        client = CcxtExchangeClient(venue, exchange, clock=clock)
        lines += check_venue(venue, client, symbol, missing)
    table = Table(title=f"Venues through ccxt {ccxt.__version__} (read-only)")
    for column in ("venue", "capability", "result", "detail"):
        table.add_column(column)
    colours = {OK: "green", REFUSED: "yellow", FAILED: "red", SKIPPED: "dim"}
    for line in lines:
        result = f"[{colours[line.result]}]{line.result}[/{colours[line.result]}]"
        table.add_row(line.venue, line.capability, result, line.detail)
    console.print(table)
    if any(line.result == FAILED for line in lines):
        raise typer.Exit(EXIT_FAILED)

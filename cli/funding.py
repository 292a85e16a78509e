"""`trading_bot.py funding ...`: the funding service from the command line."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import typer
from rich.table import Table

from cli.common import console, fail, one_line_errors

app = typer.Typer(help="Funding rates and arbitrage opportunities.", no_args_is_help=True)


def _pct(value: Decimal, places: int = 2) -> str:
    return f"{value * 100:.{places}f}%"


@app.command("top")
@one_line_errors
def top(
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="How many opportunities."),
    min_apr: float = typer.Option(0.0, "--min-apr", help="Minimum APR in percent, e.g. 10."),
    horizon_hours: int = typer.Option(168, "--horizon", min=1, help="Holding horizon (hours)."),
    max_breakeven: int = typer.Option(72, "--max-breakeven", min=1, help="Hours."),
    max_age_minutes: int = typer.Option(15, "--max-age", min=1, help="Rate staleness limit."),
    size_usd: int = typer.Option(10_000, "--size", min=1, help="Notional for the USD column."),
) -> None:
    """Rank funding-arbitrage opportunities from the stored rates (best first)."""
    from funding_service.fees import FeeSchedule
    from funding_service.opportunities import OpportunityFilter
    from funding_service.store import PostgresFundingRateSource
    from strategies.implementations.funding_arbitrage.api_client import FundingServiceClient
    from strategies.runtime import get_runtime

    runtime = get_runtime()
    now = runtime.clock.now()
    source = PostgresFundingRateSource(runtime.engine)
    rates = source.latest_rates(now - FundingServiceClient.LOOKBACK, kind=FundingServiceClient.KIND)
    venues = sorted({r.venue for r in rates})
    if not venues:
        raise fail(
            "no funding rates stored yet: run the collector (beat's funding-collect, "
            "or `trading_bot.py demo`) first",
            code=1,
        )
    instruments = [i for v in venues for i in runtime.exchange(v).instruments()]
    client = FundingServiceClient(source, FeeSchedule.from_instruments(instruments))
    flt = OpportunityFilter(
        horizon_hours=Decimal(horizon_hours),
        max_breakeven_hours=Decimal(max_breakeven),
        max_age=timedelta(minutes=max_age_minutes),
    ).with_min_apr(Decimal(str(min_apr)) / 100)
    ranking = client.rank(now, flt, limit=limit)
    table = Table(
        title=f"Funding arbitrage at {now:%Y-%m-%d %H:%M} UTC "
        f"({ranking.total} pairs pass; horizon {horizon_hours} h)"
    )
    for column in (
        "#",
        "symbol",
        "long",
        "short",
        "long/h",
        "short/h",
        "APR",
        "cost",
        "breakeven h",
        f"net on ${size_usd:,}",
    ):
        table.add_column(
            column, justify="left" if column in ("symbol", "long", "short") else "right"
        )
    for rank, opp in enumerate(ranking.opportunities, start=1):
        table.add_row(
            str(rank),
            opp.symbol,
            opp.long_venue,
            opp.short_venue,
            _pct(opp.long_hourly, 4),
            _pct(opp.short_hourly, 4),
            _pct(opp.apr),
            _pct(opp.cost_rate, 3),
            f"{opp.breakeven_hours:.1f}",
            f"${opp.expected_net_usd(Decimal(size_usd)):,.2f}",
        )
    console.print(table)
    if ranking.excluded:
        stale = sum(1 for e in ranking.excluded if e.reason.startswith("stale"))
        console.print(f"{len(ranking.excluded)} venue rates left out ({stale} stale).")

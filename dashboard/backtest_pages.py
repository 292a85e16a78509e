"""The backtests pages: the list of runs, one run's summary with its report embedded, and
the report's HTML itself, served sandboxed. Every one needs a session."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from dashboard.readmodel import live
from dashboard.readmodel.backtests import NotARun
from dashboard.web import current_session, dashboard, no_store, render

# The report is the backtester's own HTML with plotly.js inline. It runs sandboxed in an
# opaque origin: its scripts draw the plots but cannot read the dashboard's pages or
# cookies, nor send anything anywhere; only the dashboard may frame it.
REPORT_CSP = (
    "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; "
    "frame-ancestors 'self'; form-action 'none'; base-uri 'none'"
)

# The rows of a run's summary table: label, the policy field, how it is shown.
SUMMARY_ROWS = (
    ("net PnL $", "net_pnl", "money"),
    ("funding received $", "funding_received", "money"),
    ("funding paid $", "funding_paid", "money"),
    ("fees $", "fees", "money"),
    ("slippage $", "slippage", "money"),
    ("opens", "opens", "count"),
    ("closes", "closes", "count"),
    ("switches", "switches", "count"),
    ("time in market (h)", "time_in_market_hours", "count"),
    ("APR on capital", "apr_on_capital", "pct"),
    ("max drawdown $", "max_drawdown", "money"),
    ("worst unhedged $", "worst_unhedged_usd", "money"),
)


async def backtests_page(request: Request) -> Response:
    info = await current_session(request)
    board = dashboard(request)
    runs = await run_in_threadpool(board.backtests.runs)
    context = {
        "scope": board.scope(),
        "runs": runs,
        "directory": board.backtests.directory,
        "live": await board.read(live.snapshot),
    }
    return no_store(render(request, "backtests.html", context, info))


async def backtest_page(request: Request) -> Response:
    info = await current_session(request)
    board = dashboard(request)
    try:
        run = await run_in_threadpool(board.backtests.run, request.path_params["run_id"])
    except NotARun as error:
        raise HTTPException(404, str(error)) from None
    context = {
        "scope": board.scope(),
        "run": run,
        "rows": SUMMARY_ROWS,
        "live": await board.read(live.snapshot),
    }
    return no_store(render(request, "backtest.html", context, info))


async def backtest_report(request: Request) -> Response:
    await current_session(request)
    board = dashboard(request)
    try:
        path = await run_in_threadpool(board.backtests.html_path, request.path_params["run_id"])
    except NotARun as error:
        raise HTTPException(404, str(error)) from None
    return FileResponse(
        path,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": REPORT_CSP,
            "X-Frame-Options": "SAMEORIGIN",
            "Cache-Control": "no-store",
        },
    )

"""The ASGI app: routes, errors, security headers, static files (plotly.js from its package).

Built on Starlette with Jinja2 templates rendered on the server; the only JavaScript is
plotly.js, served from the installed `plotly` package, and one small script of ours. No
build step, no CDN: it works offline from a fresh clone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.resources import files
from pathlib import Path

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.clock import Clock
from dashboard import actions, backtest_pages, pages
from dashboard.auth import Authenticator
from dashboard.readmodel.backtests import BacktestReports
from dashboard.web import HERE, Dashboard, LoginRequired, login_redirect, render
from strategies.base_strategy import StrategyConfig

PLOTLY_JS = Path(str(files("plotly") / "package_data" / "plotly.min.js"))

# Scripts only from this site; plotly sets inline styles on the elements it draws.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'"
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                own = {name.lower() for name, _ in headers}
                for name, value in (
                    ("content-security-policy", CSP),
                    ("x-content-type-options", "nosniff"),
                    ("x-frame-options", "DENY"),
                    ("referrer-policy", "same-origin"),
                ):
                    # A response that sets its own policy keeps it (a backtest's report).
                    if name.encode() not in own:
                        headers.append((name.encode(), value.encode()))
            await send(message)

        await self.app(scope, receive, with_headers)


async def _plotly(request: Request) -> Response:
    return FileResponse(
        PLOTLY_JS, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"}
    )


async def _health(request: Request) -> Response:
    return PlainTextResponse("ok")


async def _login_required(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": "login required"}, status_code=401)
    return login_redirect(request)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
    response = render(
        request,
        "error.html",
        {"status": exc.status_code, "detail": exc.detail},
        None,
        status_code=exc.status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def create_app(
    engine: Engine | None = None,
    clock: Clock | None = None,
    configs: Callable[[], Mapping[str, StrategyConfig]] | None = None,
    paper: bool | None = None,
    backtest_dir: Path | None = None,
) -> Starlette:
    """The dashboard over the runtime's database, clock, strategy configs and backtest
    reports (or the given ones: tests pass their own)."""
    from strategies.runtime import get_runtime

    runtime = get_runtime()
    engine = engine or runtime.engine
    board = Dashboard(
        engine=engine,
        clock=clock or runtime.clock,
        configs=configs or (lambda: get_runtime().configs),
        paper=(not runtime.settings.is_live) if paper is None else paper,
        auth=Authenticator(engine),
        backtests=BacktestReports(backtest_dir or runtime.settings.backtests_path),
    )
    routes = [
        Route("/", pages.overview_page),
        Route("/positions", pages.positions_page),
        Route("/positions/{position_id}", pages.position_page),
        Route("/opportunities", pages.opportunities_page),
        Route("/transfers", pages.transfers_page),
        Route("/tasks", pages.tasks_page),
        Route("/backtests", backtest_pages.backtests_page),
        Route("/backtests/{run_id}", backtest_pages.backtest_page),
        Route("/backtests/{run_id}/report.html", backtest_pages.backtest_report),
        Route("/api/live", pages.live_endpoint),
        Route("/api/pnl", pages.pnl_endpoint),
        Route("/login", actions.login_form, methods=["GET"]),
        Route("/login", actions.login, methods=["POST"]),
        Route("/logout", actions.logout, methods=["POST"]),
        Route("/actions/{action}", actions.confirm, methods=["GET"]),
        Route("/actions/{action}", actions.act, methods=["POST"]),
        Route("/healthz", _health),
        Route("/static/plotly.min.js", _plotly),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders), Middleware(GZipMiddleware, minimum_size=1000)],
        exception_handlers={LoginRequired: _login_required, HTTPException: _http_error},
    )
    app.state.dashboard = board
    return app

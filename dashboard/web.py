"""What every handler shares: the dashboard's parts, sessions, read-only database work,
and rendering."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from core.clock import Clock
from dashboard.auth import SESSION_COOKIE, Authenticator, LoginLimiter, SessionInfo
from dashboard.formatting import FILTERS
from dashboard.readmodel.backtests import BacktestReports
from dashboard.readmodel.scope import Scope
from strategies.base_strategy import StrategyConfig

HERE = Path(__file__).resolve().parent
T = TypeVar("T")

templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters.update(FILTERS)


@dataclass
class Dashboard:
    """The parts the handlers use; built once by `create_app`."""

    engine: Engine
    clock: Clock  # the deployment's clock (simulated in the demo): the data's time
    configs: Callable[[], Mapping[str, StrategyConfig]]
    paper: bool
    auth: Authenticator
    backtests: BacktestReports
    limiter: LoginLimiter = field(default_factory=LoginLimiter)

    def scope(self) -> Scope:
        return Scope(self.configs(), self.clock.now(), self.paper)

    async def read(self, work: Callable[[Session, Scope], T]) -> T:
        """Run `work` in a read-only transaction (the dashboard never writes the read model)."""

        def run() -> T:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                session.execute(text("SET TRANSACTION READ ONLY"))
                # The PnL curve sorts the monitor's updates per position: in memory, not on disk.
                session.execute(text("SET LOCAL work_mem = '64MB'"))
                return work(session, self.scope())

        return await run_in_threadpool(run)


def dashboard(request: Request) -> Dashboard:
    board = request.app.state.dashboard
    if not isinstance(board, Dashboard):
        raise RuntimeError("the app has no dashboard state (built outside create_app?)")
    return board


class LoginRequired(Exception):
    """No valid session: pages redirect to the login form, the API answers 401."""


async def current_session(request: Request) -> SessionInfo:
    token = request.cookies.get(SESSION_COOKIE)
    info = await run_in_threadpool(dashboard(request).auth.session, token)
    if info is None:
        raise LoginRequired()
    return info


def require_operator(info: SessionInfo) -> None:
    if not info.can_act:
        raise HTTPException(403, f"user {info.user} has the read-only role {info.role}: no actions")


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    info: SessionInfo | None,
    status_code: int = 200,
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        name,
        {"session": info, "path": request.url.path, **context},
        status_code=status_code,
    )


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response

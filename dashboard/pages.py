"""The pages (server-rendered) and the live JSON endpoint. Every one needs a session."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.enums import TransferStatus
from dashboard.readmodel import live, opportunities, overview, pnl, positions, tasks, transfers
from dashboard.readmodel.scope import Scope
from dashboard.web import current_session, dashboard, no_store, render
from db.models.runs import TASK_RUN_STATUSES


def _strategy_param(request: Request, scope_names: list[str]) -> str | None:
    name = request.query_params.get("strategy") or None
    if name is not None and name not in scope_names:
        raise HTTPException(404, f"unknown strategy {name!r}")
    return name


def _page_param(request: Request, name: str) -> int:
    raw = request.query_params.get(name) or "1"
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or int(raw) < 1:
        raise HTTPException(400, f"{name} {raw!r}: a page number from 1")
    return int(raw)


def _page_url(request: Request) -> Callable[[str, int], str]:
    """A link to this page with one page number changed (the other parameters kept)."""

    def url(name: str, number: int) -> str:
        return "?" + str(request.url.include_query_params(**{name: number}).query)

    return url


async def overview_page(request: Request) -> Response:
    info = await current_session(request)

    def work(session: Session, scope: Scope) -> dict[str, Any]:
        return {
            "scope": scope,
            "strategies": overview.strategies(session, scope),
            "capital": overview.capital(session, scope),
            "alerts": overview.alerts(session, scope),
            "live": live.snapshot(session, scope),
        }

    context = await dashboard(request).read(work)
    return no_store(render(request, "overview.html", context, info))


async def positions_page(request: Request) -> Response:
    info = await current_session(request)

    active_page = _page_param(request, "active_page")
    closed_page = _page_param(request, "closed_page")

    def work(session: Session, scope: Scope) -> dict[str, Any]:
        strategy = _strategy_param(request, sorted(scope.configs))
        return {
            "scope": scope,
            "strategy": strategy,
            "page": positions.position_list(session, scope, strategy, active_page, closed_page),
            "page_url": _page_url(request),
            "live": live.snapshot(session, scope),
        }

    context = await dashboard(request).read(work)
    return no_store(render(request, "positions.html", context, info))


async def position_page(request: Request) -> Response:
    info = await current_session(request)
    try:
        position_id = uuid.UUID(request.path_params["position_id"])
    except ValueError:
        raise HTTPException(404, "not a position id") from None

    events_page = _page_param(request, "events_page")

    def work(session: Session, scope: Scope) -> dict[str, Any]:
        detail = positions.position_detail(session, scope, position_id, events_page)
        if detail is None:
            raise HTTPException(404, f"no position {position_id}")
        return {
            "scope": scope,
            "detail": detail,
            "page_url": _page_url(request),
            "live": live.snapshot(session, scope),
        }

    context = await dashboard(request).read(work)
    return no_store(render(request, "position.html", context, info))


async def opportunities_page(request: Request) -> Response:
    info = await current_session(request)

    def work(session: Session, scope: Scope) -> dict[str, Any]:
        return {
            "scope": scope,
            "strategies": [
                opportunities.for_strategy(session, scope, name)
                for name in scope.funding_arbitrage()
            ],
            "live": live.snapshot(session, scope),
        }

    context = await dashboard(request).read(work)
    return no_store(render(request, "opportunities.html", context, info))


async def transfers_page(request: Request) -> Response:
    info = await current_session(request)
    status = request.query_params.get("status") or None
    if status is not None and status not in {s.value for s in TransferStatus}:
        raise HTTPException(400, f"status {status!r}: not a transfer status")

    page = _page_param(request, "page")

    def work(session: Session, scope: Scope) -> dict[str, Any]:
        return {
            "scope": scope,
            "status": status,
            "page": transfers.transfer_page(session, status, page),
            "page_url": _page_url(request),
            "live": live.snapshot(session, scope),
        }

    context = await dashboard(request).read(work)
    return no_store(render(request, "transfers.html", context, info))


async def tasks_page(request: Request) -> Response:
    info = await current_session(request)
    status = request.query_params.get("status") or None
    if status is not None and status not in TASK_RUN_STATUSES:
        raise HTTPException(400, f"status {status!r}: one of {', '.join(TASK_RUN_STATUSES)}")

    def work(session: Session, scope: Scope) -> dict[str, Any]:
        strategy = _strategy_param(request, sorted(scope.configs))
        return {
            "scope": scope,
            "strategy": strategy,
            "status": status,
            "page": tasks.task_page(session, sorted(scope.configs), strategy, status),
            "error_of": tasks.error_of,
            "per_strategy": tasks.PER_STRATEGY,
            "live": live.snapshot(session, scope),
        }

    context = await dashboard(request).read(work)
    return no_store(render(request, "tasks.html", context, info))


async def pnl_endpoint(request: Request) -> Response:
    """The PnL curve, fetched by the overview after it is drawn (the heaviest read)."""
    await current_session(request)
    data = await dashboard(request).read(
        lambda session, scope: [p.to_json() for p in pnl.series(session, scope.now)]
    )
    return no_store(JSONResponse(data))


async def live_endpoint(request: Request) -> Response:
    await current_session(request)
    data = await dashboard(request).read(live.snapshot)
    return no_store(JSONResponse(data))

"""Logging in and out, and the operator's actions: a confirmation page (GET), then the
confirmed form (POST) with the session's CSRF token enqueues the same task as the CLI."""

from __future__ import annotations

import hmac
import secrets
import uuid
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from core.enums import ACTIVE_POSITION_STATUSES
from dashboard.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, SESSION_LIFETIME, SessionInfo
from dashboard.readmodel.scope import Scope
from dashboard.web import current_session, dashboard, no_store, render, require_operator
from db.models import StrategyPosition
from tasks.manual import ManualAction, ManualRequest, enqueue

REASON_MAX = 200
WHAT = {
    ManualAction.PAUSE: "Pause {strategy}: beat's ticks are skipped until it is resumed "
    "(manual operations still run).",
    ManualAction.RESUME: "Resume {strategy}: beat ticks it again.",
    ManualAction.CLOSE: "Close position {position} of {strategy}: both legs, reduce-only.",
    ManualAction.REBALANCE: "Rebalance {strategy} now{of_position}, under its lock like a tick.",
    ManualAction.HALT: "Halt {strategy}: no new exposure, resting opens cancelled, until an "
    "operator runs `trading_bot.py resume {strategy} --halt` (not from this dashboard).",
}


def _safe_next(value: str | None) -> str:
    """Only a path on this site (never `//host` or `https://...`)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _client(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


async def login_form(request: Request) -> Response:
    csrf = secrets.token_urlsafe(32)
    context = {"csrf": csrf, "next": _safe_next(request.query_params.get("next")), "error": None}
    response = render(request, "login.html", context, None)
    _set_cookie(request, response, LOGIN_CSRF_COOKIE, csrf, max_age=3600)
    return no_store(response)


async def login(request: Request) -> Response:
    form = await request.form()
    board = dashboard(request)
    target = _safe_next(str(form.get("next") or ""))
    name = str(form.get("username") or "").strip()
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not cookie or not hmac.compare_digest(cookie, str(form.get("csrf_token") or "")):
        raise HTTPException(403, "missing or wrong CSRF token on the login form: reload it")
    keys = [f"ip:{_client(request)}", f"user:{name.lower()}"]
    wait = board.limiter.retry_after(keys)
    if wait is not None:
        response = render(
            request,
            "login.html",
            {"csrf": cookie, "next": target, "error": f"too many failed logins: wait {wait} s"},
            None,
            status_code=429,
        )
        response.headers["Retry-After"] = str(wait)
        return no_store(response)
    found = await run_in_threadpool(board.auth.login, name, str(form.get("password") or ""))
    if found is None:
        board.limiter.failed(keys)
        context = {"csrf": cookie, "next": target, "error": "wrong user name or password"}
        return no_store(render(request, "login.html", context, None, status_code=401))
    board.limiter.succeeded(keys)
    token, _info = found
    redirect = RedirectResponse(target, status_code=303)
    _set_cookie(request, redirect, SESSION_COOKIE, token, int(SESSION_LIFETIME.total_seconds()))
    redirect.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return redirect


async def logout(request: Request) -> Response:
    info = await current_session(request)
    _check_csrf(info, await request.form())
    await run_in_threadpool(dashboard(request).auth.logout, request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _check_csrf(info: SessionInfo, form: FormData) -> None:
    sent = str(form.get("csrf_token") or "")
    if not sent or not hmac.compare_digest(sent, info.csrf_token):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


def _action(request: Request) -> ManualAction:
    try:
        return ManualAction(request.path_params["action"])
    except ValueError:
        raise HTTPException(404, "no such action") from None


def _checked(
    session: Session, scope: Scope, action: ManualAction, strategy: str, position: str | None
) -> ManualRequest:
    """The request, once the strategy and position are known to exist and belong together."""
    if strategy not in scope.configs:
        raise HTTPException(400, f"unknown strategy {strategy!r}")
    position_id = None
    if position:
        try:
            position_id = uuid.UUID(position)
        except ValueError:
            raise HTTPException(400, f"{position!r} is not a position id") from None
        row = session.get(StrategyPosition, position_id)
        if row is None or row.strategy_name != strategy:
            raise HTTPException(400, f"{strategy} has no position {position_id}")
        if action is ManualAction.CLOSE and row.status not in ACTIVE_POSITION_STATUSES:
            raise HTTPException(400, f"position {position_id} is {row.status}: nothing to close")
    try:
        return ManualRequest(action, strategy, position_id)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


def _describe(request: ManualRequest) -> str:
    return WHAT[request.action].format(
        strategy=request.strategy,
        position=request.position_id,
        of_position=f" (position {request.position_id} only)" if request.position_id else "",
    )


async def confirm(request: Request) -> Response:
    info = await current_session(request)
    require_operator(info)
    action = _action(request)
    strategy = request.query_params.get("strategy") or ""
    position = request.query_params.get("position")

    def work(session: Session, scope: Scope) -> dict[str, Any]:
        checked = _checked(session, scope, action, strategy, position)
        return {
            "op": checked,
            "what": _describe(checked),
            "back": f"/positions/{checked.position_id}" if checked.position_id else "/",
        }

    context = await dashboard(request).read(work)
    return no_store(render(request, "confirm.html", context, info))


async def act(request: Request) -> Response:
    info = await current_session(request)
    require_operator(info)
    form = await request.form()
    _check_csrf(info, form)
    action = _action(request)
    if form.get("confirmed") != "yes":
        raise HTTPException(400, "not confirmed: use the confirmation page")
    strategy = str(form.get("strategy") or "")
    position = str(form.get("position") or "") or None
    reason = str(form.get("reason") or "").strip()[:REASON_MAX]
    board = dashboard(request)
    checked = await board.read(lambda s, scope: _checked(s, scope, action, strategy, position))
    said = f"{reason} (dashboard: {info.user})" if reason else f"dashboard: {info.user}"
    sent = ManualRequest(checked.action, checked.strategy, checked.position_id, said)
    result = await run_in_threadpool(enqueue, sent)
    context = {"op": sent, "what": _describe(sent), "task_id": result.id}
    return no_store(render(request, "done.html", context, info))

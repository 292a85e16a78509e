"""The dashboard over HTTP (Starlette's test client on the real app, real PostgreSQL): login,
sessions, roles, CSRF, every page, the live endpoint, and that no secret is ever rendered."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from core.settings import get_settings
from dashboard.app import create_app
from db.models import DashboardSession, Event, FundTransfer, StrategyControl, StrategyPosition
from tests.integration.dashboard.conftest import OPERATOR, VIEWER
from tests.support.waiting import wait_until
from tests.support.workers import celery_worker

PAGES = ("/", "/positions", "/opportunities", "/transfers", "/tasks")
SECRETS = {
    "FLOWER_PASSWORD": "flower-secret-6f1c",
    "PERPBOT_HYPERLIQUID_PRIVATE_KEY": "0xprivate-key-secret-93aa",
    "PERPBOT_PARADEX_API_KEY": "api-key-secret-17b2",
}


@pytest.fixture
def app(traded, monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return create_app()


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _login(client: TestClient, user: tuple[str, str], expect: int = 303):
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"username": user[0], "password": user[1], "csrf_token": _csrf(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == expect, response.text[:500]
    return response


def _logged_in(app, user=OPERATOR) -> TestClient:
    client = TestClient(app)
    _login(client, user)
    return client


def _arb_position(engine) -> StrategyPosition:
    with Session(engine) as session:
        return session.scalars(
            select(StrategyPosition).where(
                StrategyPosition.strategy_name == "arb-demo", StrategyPosition.status == "open"
            )
        ).first()


def test_every_page_needs_a_login(app):
    client = TestClient(app)
    for path in PAGES:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert client.get("/api/live").status_code == 401


def test_login_sets_a_strict_httponly_session_cookie_and_logout_ends_it(app, traded):
    client = TestClient(app)
    cookie = _login(client, OPERATOR).headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    token = client.cookies.get("perpbot_session")
    assert client.get("/").status_code == 200
    with Session(traded) as session:  # only the token's hash is stored
        stored = session.scalars(select(DashboardSession.token_hash)).all()
    assert token not in stored and len(stored) >= 1
    client.post("/logout", data={"csrf_token": _csrf(client.get("/").text)})
    stale = TestClient(app, cookies={"perpbot_session": token})
    assert stale.get("/", follow_redirects=False).status_code == 303


def test_the_session_cookie_is_secure_over_https(app):
    client = TestClient(app, base_url="https://testserver")
    assert "Secure" in _login(client, OPERATOR).headers["set-cookie"]


def test_wrong_passwords_are_refused_and_then_rate_limited(app):
    client = TestClient(app)
    _login(client, ("nobody", "x"), expect=401)  # an unknown name fails like a wrong password
    for _ in range(4):
        _login(client, (OPERATOR[0], "wrong"), expect=401)
    limited = _login(client, OPERATOR, expect=429)  # even the right password, for a while
    assert int(limited.headers["Retry-After"]) > 0
    assert "too many failed logins" in limited.text


def test_login_without_its_csrf_token_is_refused(app):
    client = TestClient(app)
    client.get("/login")
    response = client.post("/login", data={"username": OPERATOR[0], "password": OPERATOR[1]})
    assert response.status_code == 403


def test_each_page_shows_what_the_system_wrote(app, traded):
    client = _logged_in(app)
    position = _arb_position(traded)
    overview = client.get("/")
    assert overview.status_code == 200
    for text in ("arb-demo", "grid-demo", "Capital per venue", 'id="pnl-chart"', "paradex"):
        assert text in overview.text
    curve = client.get("/api/pnl").json()
    assert curve and {"at", "funding", "fees", "price", "net"} <= set(curve[-1])
    positions = client.get("/positions").text
    assert position.long_dex in positions and position.short_dex in positions
    assert f"/positions/{position.id}" in positions
    detail = client.get(f"/positions/{position.id}").text
    for text in ("position.opened", "Funding per leg", position.long_dex, position.short_dex):
        assert text in detail
    assert "Ranked" in client.get("/opportunities").text
    transfers = client.get("/transfers").text
    assert "hyperliquid/arb → paradex/arb" in transfers and "pending" in transfers
    tasks = client.get("/tasks?strategy=grid-demo").text
    assert "strategy grid-demo is paused: test pause" in tasks  # a tick skipped while paused
    assert client.get("/tasks?status=bogus").status_code == 400
    assert client.get("/positions/not-a-uuid").status_code == 404


def test_the_live_endpoint_is_small_and_current(app, traded):
    client = _logged_in(app)
    data = client.get("/api/live").json()
    assert set(data) >= {"now", "totals", "active_positions", "alerts", "strategies"}
    assert data["strategies"]["grid-demo"]["state"] == "running"
    assert data["active_positions"] >= 1
    totals = data["totals"]
    assert float(totals["net"]) == pytest.approx(
        float(totals["funding"]) - float(totals["fees"]) + float(totals["price"])
    )


def test_no_secret_is_ever_rendered(app, traded):
    client = _logged_in(app)
    position = _arb_position(traded)
    bodies = [client.get(p).text for p in (*PAGES, f"/positions/{position.id}", "/api/live")]
    bodies.append(client.get("/actions/pause?strategy=arb-demo").text)
    settings = get_settings()
    forbidden = [
        *SECRETS.values(),
        OPERATOR[1],
        settings.database_url,
        settings.redis_url,
        "$argon2",
    ]
    forbidden.append(client.cookies.get("perpbot_session"))
    for body in bodies:
        for secret in forbidden:
            assert secret not in body


def test_pages_load_nothing_from_other_sites(app):
    client = _logged_in(app)
    for path in PAGES:
        assert not re.search(r'(src|href)="(https?:)?//', client.get(path).text)
    plotly = client.get("/static/plotly.min.js")
    assert plotly.status_code == 200 and "plotly.js" in plotly.text[:500]
    assert "script-src 'self'" in client.get("/").headers["content-security-policy"]


def test_a_viewer_sees_everything_and_may_do_nothing(app, traded):
    client = _logged_in(app, VIEWER)
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200 and "/actions/" not in page.text
    assert client.get("/actions/pause?strategy=arb-demo").status_code == 403
    csrf = _csrf(client.get("/").text)
    form = {"csrf_token": csrf, "confirmed": "yes", "strategy": "arb-demo"}
    assert client.post("/actions/pause", data=form).status_code == 403


def test_actions_need_the_csrf_token_and_a_confirmation(app, traded):
    client = _logged_in(app)
    csrf = _csrf(client.get("/actions/pause?strategy=arb-demo").text)
    base = {"confirmed": "yes", "strategy": "arb-demo"}
    assert client.post("/actions/pause", data=base).status_code == 403
    assert client.post("/actions/pause", data={**base, "csrf_token": "forged"}).status_code == 403
    unconfirmed = {"csrf_token": csrf, "strategy": "arb-demo"}
    assert client.post("/actions/pause", data=unconfirmed).status_code == 400
    unknown = {**base, "csrf_token": csrf, "strategy": "nope"}
    assert client.post("/actions/pause", data=unknown).status_code == 400
    grid_position = {**base, "csrf_token": csrf, "position": str(_arb_position(traded).id)}
    grid_position["strategy"] = "grid-demo"  # not its position
    assert client.post("/actions/close", data=grid_position).status_code == 400
    with Session(traded) as session:
        assert session.get(StrategyControl, "arb-demo") is None  # nothing was enqueued


def test_a_confirmed_pause_is_the_cli_task_and_a_worker_carries_it_out(app, traded):
    client = _logged_in(app)
    confirm = client.get("/actions/pause?strategy=arb-demo")
    assert "perpbot.strategy.pause" in confirm.text
    form = {"csrf_token": _csrf(confirm.text), "confirmed": "yes", "strategy": "arb-demo"}
    with celery_worker(queues="strategy"):
        done = client.post("/actions/pause", data={**form, "reason": "checking"})
        assert done.status_code == 200 and "Enqueued" in done.text

        def paused() -> bool:
            with Session(traded) as session:
                control = session.get(StrategyControl, "arb-demo")
                return control is not None and control.paused

        wait_until(paused, 30, "arb-demo paused by the worker")
        form["csrf_token"] = _csrf(client.get("/actions/resume?strategy=arb-demo").text)
        client.post("/actions/resume", data=form)
        wait_until(lambda: not paused(), 30, "arb-demo resumed by the worker")
    with Session(traded) as session:
        event = session.scalars(select(Event).where(Event.kind == "strategy.paused")).all()[-1]
        assert session.scalars(select(FundTransfer)).first() is not None
    assert event.payload["reason"] == "checking (dashboard: op)"


def test_a_halt_from_the_dashboard_shows_as_halted_with_its_cause(app, traded):
    from db.repositories.halts import HaltRepository
    from strategies.runtime import get_runtime

    client = _logged_in(app)
    confirm = client.get("/actions/halt?strategy=grid-demo")
    assert "perpbot.strategy.halt" in confirm.text and "resume grid-demo --halt" in confirm.text
    form = {"csrf_token": _csrf(confirm.text), "confirmed": "yes", "strategy": "grid-demo"}
    try:
        with celery_worker(queues="strategy"):
            done = client.post("/actions/halt", data={**form, "reason": "drill"})
            assert done.status_code == 200 and "Enqueued" in done.text

            def halted() -> bool:
                with Session(traded) as session:
                    return HaltRepository(session).active("grid-demo") is not None

            wait_until(halted, 30, "grid-demo halted by the worker")
        assert client.get("/api/live").json()["strategies"]["grid-demo"]["halt"] == {
            "breaker": "manual",
            "reason": "drill (dashboard: op)",
        }
        page = client.get("/").text
        row = re.search(r'<tr data-strategy="grid-demo">(.*?)</tr>', page, re.S).group(1)
        assert 'class="state halted"' in row
        assert "halted by manual breaker" in row and "drill (dashboard: op)" in row
        assert "/actions/halt" not in row and "/actions/pause" not in row  # lifted by CLI only
        assert "grid-demo halted (manual)" in page  # among what needs an operator
        assert "lift with trading_bot.py resume grid-demo --halt" in page
    finally:
        get_runtime().lift_halt("grid-demo", "test")

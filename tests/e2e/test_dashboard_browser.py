"""The dashboard in a real headless Chromium: log in, see the demo strategies' positions
with both legs, open a position, pause a strategy and see the next beat tick skipped (real
worker and beat), and a request without the CSRF token refused. Screenshots are saved in
`.run/test-artifacts/`."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.settings import PROJECT_ROOT, get_settings
from dashboard.app import create_app
from dashboard.auth import Authenticator
from db.models import StrategyPosition, TaskRun
from strategies.runtime import reset_runtime
from tests.support.browser import chromium, screenshot
from tests.support.dashboard_data import serving, trade_demo_strategies, truncate_all
from tests.support.waiting import wait_until
from tests.support.workers import celery_beat, celery_worker

pytestmark = pytest.mark.slow
USER, PASSWORD = "op", "browser-test-password"


@pytest.fixture(scope="module")
def site(engine):
    mp = pytest.MonkeyPatch()
    mp.setenv("PERPBOT_STRATEGIES", str(PROJECT_ROOT / "configs" / "demo"))
    get_settings.cache_clear()
    reset_runtime()
    truncate_all(engine)
    trade_demo_strategies(engine)
    Authenticator(engine).put_user(USER, "operator", PASSWORD)
    with serving(create_app()) as url:
        yield url
    truncate_all(engine)
    mp.undo()
    get_settings.cache_clear()
    reset_runtime()


def _text(driver, css: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, css).text


def _log_in(driver, site: str, path: str) -> None:
    driver.get(site + path)
    wait_until(lambda: "/login" in driver.current_url, 20, "redirected to the login form")
    driver.find_element(By.NAME, "username").send_keys(USER)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait_until(lambda: driver.current_url == site + path, 20, f"back on {path} after login")


def _open_position(engine) -> StrategyPosition:
    with Session(engine) as session:
        return session.scalars(
            select(StrategyPosition).where(
                StrategyPosition.strategy_name == "arb-demo", StrategyPosition.status == "open"
            )
        ).first()


def test_log_in_see_both_legs_and_open_a_position(site, engine):
    position = _open_position(engine)
    with chromium() as driver:
        _log_in(driver, site, "/positions")
        rows = driver.find_elements(By.CSS_SELECTOR, f'tr.leg[data-position="{position.id}"]')
        venues = [r.find_element(By.CSS_SELECTOR, "td.venue").text for r in rows]
        assert venues == [position.long_dex, position.short_dex]
        screenshot(driver, "dashboard-positions")
        driver.find_element(By.CSS_SELECTOR, f'a[href="/positions/{position.id}"]').click()
        wait_until(lambda: "Legs" in driver.page_source, 20, "the position page")
        legs = driver.find_elements(By.CSS_SELECTOR, "#legs tr.leg")
        assert [leg.find_element(By.CSS_SELECTOR, "td.venue").text for leg in legs] == venues
        assert driver.find_elements(By.CSS_SELECTOR, "#timeline li")
        screenshot(driver, "dashboard-position")
        driver.get(site + "/")
        wait_until(
            lambda: driver.find_elements(By.CSS_SELECTOR, "#pnl-chart .main-svg"),
            30,
            "the PnL chart drawn by plotly.js",
        )
        screenshot(driver, "dashboard-overview")


def _skipped_after_pause(engine, since) -> bool:
    with Session(engine) as session:
        return bool(
            session.scalars(
                select(TaskRun).where(
                    TaskRun.strategy_name == "arb-demo",
                    TaskRun.trigger == "beat",
                    TaskRun.status == "skipped",
                    TaskRun.reason.contains("strategy arb-demo is paused"),
                    TaskRun.started_at >= since,
                )
            ).first()
        )


def test_pause_in_the_browser_skips_the_next_beat_tick(site, engine):
    from core.clock import SystemClock

    with chromium() as driver, celery_worker(app="tasks", concurrency=2), celery_beat(app="tasks"):
        _log_in(driver, site, "/")
        before = _text(driver, '[data-live-strategy="arb-demo"][data-field="last_run"]')
        wait_until(
            lambda: (
                _text(driver, '[data-live-strategy="arb-demo"][data-field="last_run"]') != before
            ),
            60,
            "the last run of arb-demo updated in place by the live poll (no reload)",
        )
        driver.find_element(By.CSS_SELECTOR, 'a[href="/actions/pause?strategy=arb-demo"]').click()
        wait_until(lambda: driver.find_elements(By.ID, "confirm-form"), 20, "confirmation page")
        driver.find_element(By.NAME, "reason").send_keys("browser test")
        paused_at = SystemClock().now()
        driver.find_element(By.ID, "confirm-button").click()
        wait_until(lambda: driver.find_elements(By.ID, "enqueued"), 20, "the action enqueued")
        wait_until(
            lambda: _skipped_after_pause(engine, paused_at), 60, "a beat tick skipped as paused"
        )
        driver.get(site + "/tasks?strategy=arb-demo&status=skipped")
        assert "strategy arb-demo is paused: browser test" in _text(driver, "#runs")
        screenshot(driver, "dashboard-tasks-paused")
        driver.get(site + "/")
        state = '[data-live-strategy="arb-demo"][data-field="state"]'
        wait_until(lambda: _text(driver, state) == "paused", 20, "arb-demo shown paused")

        # The same request from the logged-in browser, without the CSRF token: refused.
        status = driver.execute_script(
            "const body = new URLSearchParams({strategy: 'arb-demo', confirmed: 'yes'});"
            "return fetch('/actions/resume', {method: 'POST', body}).then(r => r.status);"
        )
        assert status == 403
        assert _text(driver, state) == "paused"

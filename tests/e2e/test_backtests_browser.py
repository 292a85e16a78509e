"""A backtest report opened in a real headless Chromium: the list, the run's summary table,
and the backtester's own HTML (plotly.js inline) drawing its plot inside the sandboxed
frame. Screenshot in `.run/test-artifacts/`."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import plotly.io as pio
import pytest
from selenium.webdriver.common.by import By

from core.clock import SystemClock
from dashboard.app import create_app
from dashboard.auth import Authenticator
from tests.integration.dashboard.test_backtests_pages import policy, report
from tests.support.browser import chromium, screenshot
from tests.support.dashboard_data import serving
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow
USER, PASSWORD = "quant", "backtest-browser-1"
RUN = "20260410T090000Z-c0ffee12"


@pytest.fixture
def site(clean_db, tmp_path):
    folder = tmp_path / "backtests" / RUN
    folder.mkdir(parents=True)
    document = report(
        RUN,
        "2026-04-10T09:00:00+00:00",
        [policy("profit_erosion", "640.15"), policy("combined", "1033.42")],
    )
    (folder / "report.json").write_text(json.dumps(document))
    equity = go.Figure(go.Scatter(x=["2025-01-01", "2025-02-01", "2025-03-31"], y=[0, 410, 1033]))
    equity.update_layout(title="Equity per policy (USD, all venues)")
    (folder / "report.html").write_text(pio.to_html(equity, include_plotlyjs=True))
    Authenticator(clean_db).put_user(USER, "viewer", PASSWORD)
    app = create_app(
        engine=clean_db,
        clock=SystemClock(),
        configs=lambda: {},
        paper=True,
        backtest_dir=tmp_path / "backtests",
    )
    with serving(app) as url:
        yield url


def test_open_a_backtest_report_and_see_its_plot(site):
    with chromium() as driver:
        driver.get(site + "/backtests")
        wait_until(lambda: "/login" in driver.current_url, 20, "redirected to the login form")
        driver.find_element(By.NAME, "username").send_keys(USER)
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "form.login button").click()
        wait_until(lambda: driver.current_url == site + "/backtests", 20, "the backtests list")
        row = driver.find_element(By.CSS_SELECTOR, f'tr.backtest[data-run="{RUN}"]')
        assert "+1,033.42" in row.text and "combined" in row.text
        row.find_element(By.CSS_SELECTOR, "a").click()
        wait_until(lambda: driver.find_elements(By.ID, "backtest-summary"), 20, "the run page")
        summary = driver.find_element(By.ID, "backtest-summary").text
        assert "profit_erosion" in summary and "+640.15" in summary
        frame = driver.find_element(By.ID, "backtest-report")
        driver.switch_to.frame(frame)
        wait_until(
            lambda: driver.find_elements(By.CSS_SELECTOR, ".main-svg .scatterlayer .trace"),
            30,
            "the report's plot drawn by its inline plotly.js inside the sandboxed frame",
        )
        assert "Equity per policy" in driver.find_element(By.CSS_SELECTOR, ".gtitle").text
        driver.switch_to.default_content()
        screenshot(driver, "dashboard-backtest")

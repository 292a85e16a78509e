"""The backtests pages over report files the test writes in the backtester's layout
(`<dir>/<run_id>/report.json` and `report.html`): the list newest first, a run's summary
and its report served sandboxed, malformed reports shown as unreadable, run ids validated
and no way out of the directory. HTTP client on the real app and database."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.settings import get_settings
from dashboard.app import create_app
from dashboard.auth import Authenticator
from strategies.runtime import reset_runtime

USER, PASSWORD = "analyst", "backtest-viewer-1"
OLD, NEW = "20260301T120000Z-aaaa1111", "20260402T080000Z-bbbb2222"


def policy(name: str, net: str, **changes: Any) -> dict[str, Any]:
    row = {
        "policy": name,
        "net_pnl": net,
        "funding_received": "812.50",
        "funding_paid": "-95.25",
        "fees": "61.10",
        "slippage": "12.40",
        "opens": 14,
        "closes": 13,
        "switches": 3,
        "time_in_market_hours": 1530,
        "apr_on_capital": "0.0841",
        "max_drawdown": "210.75",
        "worst_unhedged_usd": "0",
        "hours": 2160,  # the backtester writes more keys than the dashboard shows
        "capital_used": "9000",
    }
    row.update(changes)
    return row


def report(run_id: str, created: str, policies: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "created_at": created,
        "config": "configs/backtest/funding_arbitrage.yaml",
        "data": "shared/data/funding-history",
        "from": "2025-01-01",
        "to": "2025-03-31",
        "price_proxy": "binance mark prices for every venue",
        "policies": policies,
        "margin_assets": {"binance": "USDT"},
        "series": {},
    }


def write_run(directory: Path, run_id: str, document: Any, html: str | None = None) -> Path:
    folder = directory / run_id
    folder.mkdir(parents=True)
    text = document if isinstance(document, str) else json.dumps(document, indent=2)
    (folder / "report.json").write_text(text, encoding="utf-8")
    if html is not None:
        (folder / "report.html").write_text(html, encoding="utf-8")
    return folder


@pytest.fixture
def reports(tmp_path) -> Path:
    directory = tmp_path / "backtests"
    directory.mkdir()
    write_run(
        directory,
        OLD,
        report(OLD, "2026-03-01T12:00:00+00:00", [policy("hold", "120.00")]),
        "<html><body><h1>old report</h1></body></html>",
    )
    write_run(
        directory,
        NEW,
        report(
            NEW,
            "2026-04-02T08:00:00+00:00",
            [policy("profit_erosion", "640.15"), policy("combined", "1033.42", switches=5)],
        ),
        "<!doctype html><html><body><h1>Backtest report</h1>"
        "<script>document.title = 'drawn'</script></body></html>",
    )
    return directory


@pytest.fixture
def client(clean_db, reports) -> TestClient:
    Authenticator(clean_db).put_user(USER, "viewer", PASSWORD)
    app = create_app(engine=clean_db, configs=lambda: {}, paper=True, backtest_dir=reports)
    client = TestClient(app)
    form = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    client.post("/login", data={"username": USER, "password": PASSWORD, "csrf_token": csrf})
    return client


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr class="backtest[^"]*" data-run="([^"]+)"', html)


def test_the_list_shows_each_run_newest_first_with_its_best_policy(client):
    page = client.get("/backtests")
    assert page.status_code == 200
    assert _rows(page.text) == [NEW, OLD]
    new_row = page.text.split(f'data-run="{NEW}"', 1)[1].split("</tr>", 1)[0]
    for text in ("2026-04-02 08:00:00 UTC", "2025-01-01", "2025-03-31"):
        assert text in new_row
    assert "profit_erosion, combined" in new_row
    assert "+1,033.42" in new_row and "<td>combined</td>" in new_row
    assert '<a href="/backtests">Backtests</a>' in client.get("/").text.replace(
        ' class="current"', ""
    )


def test_a_run_page_has_the_summary_table_and_embeds_its_report_sandboxed(client, reports):
    page = client.get(f"/backtests/{NEW}")
    assert page.status_code == 200
    table = page.text.split('<table id="backtest-summary">', 1)[1].split("</table>", 1)[0]
    for text in ("profit_erosion", "combined", "+640.15", "+1,033.42", "8.41%", "812.50", "1530"):
        assert text in table
    assert "binance mark prices for every venue" in page.text
    assert f'<iframe id="backtest-report" src="/backtests/{NEW}/report.html" sandbox' in page.text
    served = client.get(f"/backtests/{NEW}/report.html")
    assert served.status_code == 200
    assert served.text == (reports / NEW / "report.html").read_text()
    csp = served.headers["content-security-policy"]
    assert csp.startswith("sandbox allow-scripts;") and "frame-ancestors 'self'" in csp
    assert "connect-src" not in csp and "default-src 'none'" in csp  # it can send nothing
    assert served.headers["x-frame-options"] == "SAMEORIGIN"
    assert served.headers["content-type"].startswith("text/html")
    # The dashboard's own pages keep the site's policy.
    assert client.get("/backtests").headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    ("document", "why"),
    [
        ("{not json", "report.json is not JSON"),
        ("[1, 2]", "report.json holds a list, not an object"),
        ({"run_id": "x"}, "created_at: Field required (and"),
        ("money as a float", "policies.0.net_pnl: Value error, a decimal string, not float"),
        ("no policies", "policies: List should have at least 1 item"),
        ("naive time", "created_at: Input should have timezone info"),
        ("other run id", "run_id '20250101T000000Z-other' is not its directory's name"),
    ],
)
def test_a_malformed_report_is_listed_as_unreadable_with_the_reason(client, reports, document, why):
    run_id = "20260501T000000Z-broken"
    good = report(run_id, "2026-05-01T00:00:00+00:00", [policy("hold", "1.00")])
    if document == "money as a float":
        document = {**good, "policies": [policy("hold", 1.5)]}
    elif document == "no policies":
        document = {**good, "policies": []}
    elif document == "naive time":
        document = {**good, "created_at": "2026-05-01T00:00:00"}
    elif document == "other run id":
        document = {**good, "run_id": "20250101T000000Z-other"}
    write_run(reports, run_id, document)
    page = client.get("/backtests")
    assert page.status_code == 200
    assert _rows(page.text) == [NEW, OLD, run_id]  # the readable ones still listed first
    row = page.text.split(f'data-run="{run_id}"', 1)[1].split("</tr>", 1)[0]
    assert "unreadable: " in row and why in row.replace("&#39;", "'"), row
    detail = client.get(f"/backtests/{run_id}")
    assert detail.status_code == 200 and "unreadable: " in detail.text
    assert "has no report.html" in client.get(f"/backtests/{run_id}/report.html").text


def test_a_run_without_report_json_and_a_name_that_is_no_run_id_are_unreadable(client, reports):
    (reports / "20260601T000000Z-empty").mkdir()
    (reports / "not a run id!").mkdir()
    (reports / "stray-file.txt").write_text("not a run")
    page = client.get("/backtests").text
    assert _rows(page) == [NEW, OLD, "20260601T000000Z-empty", "not a run id!"]
    assert "unreadable: no report.json" in page and "unreadable: not a run id" in page
    assert 'href="/backtests/not a run id!"' not in page


def test_no_path_leads_out_of_the_backtest_directory(client, reports, tmp_path):
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "report.html").write_text("OUTSIDE-SECRET")
    (secret / "report.json").write_text(
        json.dumps(report("escape", "2026-01-01T00:00:00+00:00", [policy("x", "1")]))
    )
    (reports / "escape").symlink_to(secret, target_is_directory=True)  # a link out
    (reports / NEW / "leak.html").symlink_to(secret / "report.html")
    (reports / OLD / "report.html").unlink()
    (reports / OLD / "report.html").symlink_to(secret / "report.html")  # a file linked out
    for path in (
        "/backtests/escape/report.html",
        "/backtests/escape",
        f"/backtests/{OLD}/report.html",
        "/backtests/..%2Foutside/report.html",
        "/backtests/%2E%2E/report.html",
        "/backtests/..%2F..%2Fetc%2Fpasswd",
        "/backtests/.hidden/report.html",
        f"/backtests/{NEW}%2F..%2F..%2Foutside/report.html",
        f"/backtests/{NEW}/leak.html",
        f"/backtests/{NEW}/report.json",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "OUTSIDE-SECRET" not in response.text, path
    listing = client.get("/backtests").text
    assert "OUTSIDE-SECRET" not in listing
    assert "unreadable: no report.json" in listing.split('data-run="escape"', 1)[1]


def test_every_backtest_page_needs_a_login(clean_db, reports):
    app = create_app(engine=clean_db, configs=lambda: {}, paper=True, backtest_dir=reports)
    anonymous = TestClient(app)
    for path in ("/backtests", f"/backtests/{NEW}", f"/backtests/{NEW}/report.html"):
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_the_directory_comes_from_perpbot_backtest_dir(clean_db, reports, monkeypatch):
    monkeypatch.setenv("PERPBOT_BACKTEST_DIR", str(reports))
    get_settings.cache_clear()
    reset_runtime()
    try:
        assert get_settings().backtests_path == reports
        app = create_app(engine=clean_db, configs=lambda: {}, paper=True)
        assert app.state.dashboard.backtests.directory == reports
    finally:
        monkeypatch.delenv("PERPBOT_BACKTEST_DIR")
        get_settings.cache_clear()
        reset_runtime()
    assert get_settings().backtests_path == get_settings().run_dir / "backtests"


def test_a_report_rewritten_or_removed_is_seen_at_the_next_look(client, reports):
    assert "+120.00" in client.get("/backtests").text
    document = report(OLD, "2026-03-01T12:00:00+00:00", [policy("hold", "-45.50")])
    (reports / OLD / "report.json").write_text(json.dumps(document))
    page = client.get("/backtests").text
    assert "-45.50" in page and "+120.00" not in page
    (reports / OLD / "report.json").write_text("{broken")
    assert "unreadable: report.json is not JSON" in client.get("/backtests").text
    for name in ("report.json", "report.html"):
        (reports / OLD / name).unlink()
    (reports / OLD).rmdir()
    assert _rows(client.get("/backtests").text) == [NEW]
    assert client.get(f"/backtests/{OLD}").status_code == 404

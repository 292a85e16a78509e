"""Long lists in pages: a few hundred positions and transfers, every one reachable by
following the page links (HTTP client on the real app and database)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from core.clock import ManualClock
from dashboard.app import create_app
from dashboard.auth import Authenticator
from dashboard.readmodel.positions import ACTIVE_PAGE_SIZE, CLOSED_PAGE_SIZE, TIMELINE_PAGE_SIZE
from dashboard.readmodel.transfers import PAGE_SIZE as TRANSFERS_PAGE_SIZE

NOW = datetime(2026, 5, 1, tzinfo=UTC)
ACTIVE, CLOSED = ACTIVE_PAGE_SIZE + 37, 2 * CLOSED_PAGE_SIZE + 5


@pytest.fixture
def client(clean_db):
    with clean_db.begin() as connection:
        connection.execute(
            text(
                """INSERT INTO strategy_positions (id, strategy_name, symbol, long_dex, short_dex,
                    size_usd, long_qty, short_qty, status, opened_at, closed_at, created_at,
                    updated_at)
                SELECT gen_random_uuid(), 'arb', 'S' || i, 'lighter', 'paradex', 1000, 1, 1,
                    CASE WHEN i <= :active THEN 'open' ELSE 'closed' END,
                    :now - (i || ' hours')::interval,
                    CASE WHEN i <= :active THEN NULL ELSE :now - (i || ' minutes')::interval END,
                    :now - (i || ' hours')::interval, :now
                FROM generate_series(1, :active + :closed) i"""
            ),
            {"active": ACTIVE, "closed": CLOSED, "now": NOW},
        )
    Authenticator(clean_db).put_user("pager", "viewer", "pager-password-1")
    app = create_app(engine=clean_db, clock=ManualClock(NOW), configs=lambda: {}, paper=True)
    client = TestClient(app)
    form = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    client.post(
        "/login", data={"username": "pager", "password": "pager-password-1", "csrf_token": csrf}
    )
    return client


def _ids(html: str, table: str) -> list[str]:
    body = html.split(f'<table id="{table}">', 1)[1].split("</table>", 1)[0]
    return list(dict.fromkeys(re.findall(r'href="/positions/([0-9a-f-]{36})"', body)))


def _walk(
    client: TestClient, table: str, paging_id: str, start: str = "/positions", ids=None
) -> tuple[list[str], int]:
    """Every id in `table`, following the "next" links from the first page."""
    seen: list[str] = []
    url: str | None = start
    pages = 0
    while url is not None:
        html = client.get(url).text
        pages += 1
        seen += (ids or _ids)(html, table)
        links = html.split(f'id="{paging_id}"', 1)[1].split("</p>", 1)[0]
        found = re.search(r'href="([^"]+)" rel="next"', links)
        url = start.split("?")[0] + found.group(1).replace("&amp;", "&") if found else None
    return seen, pages


def test_every_active_and_closed_position_is_reached_through_the_page_links(client, clean_db):
    with clean_db.connect() as connection:
        rows = connection.execute(text("SELECT id::text, status FROM strategy_positions")).all()
    active, active_pages = _walk(client, "active-positions", "active-paging")
    closed, closed_pages = _walk(client, "closed-positions", "closed-paging")
    assert sorted(active) == sorted(i for i, s in rows if s == "open") and len(active) == ACTIVE
    assert sorted(closed) == sorted(i for i, s in rows if s == "closed")
    assert (active_pages, closed_pages) == (2, 3)
    first = client.get("/positions").text
    assert f"rows 1 to {ACTIVE_PAGE_SIZE} of {ACTIVE}" in first
    assert len(_ids(first, "active-positions")) == ACTIVE_PAGE_SIZE
    # Newest close first; paging one list keeps the other's page.
    both = client.get("/positions?active_page=2&closed_page=3").text
    assert f"rows {ACTIVE_PAGE_SIZE + 1} to {ACTIVE} of {ACTIVE}" in both
    assert f"rows {2 * CLOSED_PAGE_SIZE + 1} to {CLOSED} of {CLOSED}" in both
    assert "active_page=2&amp;closed_page=2" in both  # "previous" of the closed list


def test_a_page_number_that_is_not_one_is_refused_and_one_past_the_end_is_empty(client):
    for bad in ("0", "-1", "x", "1.5", "²", "9" * 30):
        response = client.get(f"/positions?closed_page={bad}")
        assert response.status_code == 400 and "closed_page" in response.text
    past = client.get("/positions?active_page=9").text
    assert "No active position on this page." in past and 'rel="first"' in past


def _transfer_ids(html: str, _: str) -> list[str]:
    return re.findall(r'<section class="transfer" id="([0-9a-f-]{36})"', html)


def test_every_transfer_is_reached_through_the_page_links_newest_first(client, clean_db):
    with clean_db.begin() as connection:
        connection.execute(
            text(
                """INSERT INTO fund_transfers (id, from_dex, to_dex, from_account, to_account,
                    amount_usd, status, funds_location, created_at, updated_at)
                SELECT gen_random_uuid(), 'hyperliquid', 'paradex', 'arb', 'arb', 100 + i,
                    CASE WHEN i % 2 = 0 THEN 'failed' ELSE 'completed' END,
                    'destination', :now - (i || ' hours')::interval, :now
                FROM generate_series(1, :n) i"""
            ),
            {"now": NOW, "n": 2 * TRANSFERS_PAGE_SIZE + 3},
        )
        newest_first = connection.execute(
            text("SELECT id::text, status FROM fund_transfers ORDER BY created_at DESC")
        ).all()
    seen, pages = _walk(client, "", "transfers-paging", "/transfers", _transfer_ids)
    assert seen == [i for i, _ in newest_first] and pages == 3
    failed, failed_pages = _walk(
        client, "", "transfers-paging", "/transfers?status=failed", _transfer_ids
    )
    assert failed == [i for i, s in newest_first if s == "failed"] and failed_pages == 2
    assert client.get("/transfers?page=x").status_code == 400


def _event_kinds(html: str, _: str) -> list[str]:
    body = html.split('<ol id="timeline"', 1)[1].split("</ol>", 1)[0]
    return re.findall(r"<strong>(step-\d+)</strong>", body)


def test_a_position_timeline_reaches_its_first_event_through_the_page_links(client, clean_db):
    with clean_db.begin() as connection:
        position = connection.execute(
            text("SELECT id FROM strategy_positions WHERE status = 'open' LIMIT 1")
        ).scalar_one()
        connection.execute(
            text(
                """INSERT INTO events (occurred_at, strategy_name, entity_type, entity_id, kind)
                SELECT :now - ((500 - i) || ' minutes')::interval, 'arb', 'position', :id,
                    'step-' || i
                FROM generate_series(1, :n) i"""
            ),
            {"now": NOW, "id": str(position), "n": 2 * TIMELINE_PAGE_SIZE + 1},
        )
    kinds, pages = _walk(client, "", "timeline-paging", f"/positions/{position}", _event_kinds)
    assert pages == 3
    assert kinds == [f"step-{i}" for i in range(2 * TIMELINE_PAGE_SIZE + 1, 0, -1)]

"""Dashboard pages and the live update with 1,000 positions and 100,000 events.

Set-up: a throwaway database filled in bulk (SQL `generate_series`): 1,000 positions of the
demo's strategies (200 open, 800 closed) on the demo's venues, 100,000 events (monitor
updates, funding, decisions, refusals, settlements), 40,000 funding payments, 4,000
orders, 5,000 task runs, 200 transfers, collected quotes, paper accounts and their
positions. Measured through the real app and HTTP client (login once, then each page
`SAMPLES` times), the live query alone, and as floors in the same run: `/healthz` through
the same app and client, and `SELECT 1` on the same engine. The backtests pages read 50
reports (3 policies, 1,000 points each) written in the backtester's layout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import repeat_timed, scratch_database, summary_ms

SAMPLES = 15
PAGE_TARGET_MS = 200.0
LIVE_TARGET_MS = 20.0
NOW = datetime(2026, 6, 1, tzinfo=UTC)

_FILL = [
    # 1,000 positions: every 5th open (one per symbol and venue pair), over 50 symbols.
    """INSERT INTO strategy_positions (id, strategy_name, symbol, long_dex, short_dex, size_usd,
        long_qty, short_qty, long_entry_price, short_entry_price, entry_divergence,
        current_divergence, long_funding_usd, short_funding_usd, fees_usd, realized_pnl_usd,
        unrealized_pnl_usd, status, opened_at, closed_at, last_monitored_at, created_at,
        updated_at)
    SELECT md5('p' || i)::uuid, 'arb-demo', 'S' || ((i / 5) % 50),
        (ARRAY['hyperliquid','lighter','extended','paradex'])[1 + (i / 250) % 4],
        (ARRAY['lighter','extended','paradex','hyperliquid'])[1 + (i / 250) % 4],
        2000, CASE WHEN i % 5 = 0 THEN 1 ELSE 0 END, CASE WHEN i % 5 = 0 THEN 1 ELSE 0 END,
        2000, 2001, 0.00002, 0.000015, -0.5, 1.5, 1.0, CASE WHEN i % 5 = 0 THEN 0 ELSE 0.3 END,
        2.5, CASE WHEN i % 5 = 0 THEN 'open' ELSE 'closed' END,
        :now - (i || ' hours')::interval, CASE WHEN i % 5 = 0 THEN NULL ELSE :now END,
        :now, :now - (i || ' hours')::interval, :now
    FROM generate_series(1, 1000) i""",
    # 98,400 events of running positions (monitor updates, funding, decisions, refusals)...
    """INSERT INTO events (occurred_at, strategy_name, entity_type, entity_id, kind, payload)
    SELECT :now - ((100000 - i) || ' seconds')::interval, 'arb-demo',
        CASE WHEN i % 20 >= 18 THEN 'strategy' ELSE 'position' END,
        md5('p' || (1 + i % 1000))::uuid::text,
        (ARRAY['position.updated','position.updated','position.updated','position.updated',
               'position.updated','position.updated','position.updated','position.updated',
               'position.updated','position.updated','position.updated','position.updated',
               'funding.received','funding.received','funding.received','funding.received',
               'funding.received','rebalance.decision','open.refused','open.refused'])
            [1 + i % 20],
        jsonb_build_object('changes', jsonb_build_object('unrealized_pnl_usd', (i % 50) - 25),
            'reason', 'bench', 'rule', 'risk.max_positions', 'source', 'profit_erosion',
            'action', 'close', 'opportunity', jsonb_build_array('S1', 'lighter', 'extended'))
    FROM generate_series(1, 98400) i""",
    # ... and the close of each of the 800 closed positions (closed + settled): 100,000.
    # After the monitor updates above (the log's times follow its ids, as when written live).
    """INSERT INTO events (occurred_at, strategy_name, entity_type, entity_id, kind, payload)
    SELECT :now - interval '1000 seconds' + (i || ' milliseconds')::interval, 'arb-demo',
        'position', id::text, k,
        jsonb_build_object('trading_pnl_usd', '0.5', 'realized_pnl_usd', '0.3')
    FROM (SELECT id, row_number() OVER () AS i FROM strategy_positions
          WHERE status = 'closed') p, unnest(ARRAY['position.closed', 'position.settled']) k""",
    """INSERT INTO funding_payments (id, position_id, strategy_name, venue, symbol,
        funding_time, rate, position_qty, mark_price, amount_usd)
    SELECT gen_random_uuid(), md5('p' || (1 + i % 1000))::uuid, 'arb-demo', 'lighter', 'S1',
        :now - (i || ' minutes')::interval, 0.00001, 1, 2000, 0.02
    FROM generate_series(1, 40000) i""",
    """INSERT INTO orders (id, client_order_id, venue_client_order_id, strategy_name,
        position_id, venue, symbol, side, order_type, quantity, purpose, status, filled_qty,
        fee_usd, sent_at)
    SELECT gen_random_uuid(), 'o' || i, 'o' || i, 'arb-demo', md5('p' || (1 + i % 1000))::uuid,
        'lighter', 'S1', 'buy', 'market', 1, 'open', 'filled', 1, 0.5,
        :now - (i || ' minutes')::interval
    FROM generate_series(1, 4000) i""",
    """INSERT INTO task_runs (id, task_name, strategy_name, phase, trigger, status, reason,
        result, started_at, finished_at)
    SELECT gen_random_uuid(), 'perpbot.strategy.monitor',
        (ARRAY['arb-demo','grid-demo'])[1 + i % 2], 'monitor', 'beat',
        (ARRAY['succeeded','skipped','failed'])[1 + i % 3], 'bench', '{}'::jsonb,
        :now - (i || ' seconds')::interval, :now - (i || ' seconds')::interval
    FROM generate_series(1, 5000) i""",
    """INSERT INTO fund_transfers (id, from_dex, to_dex, from_account, to_account, amount_usd,
        status, funds_location, created_at, updated_at)
    SELECT gen_random_uuid(), 'hyperliquid', 'paradex', 'arb', 'arb', 100 + i, 'completed',
        'destination', :now - (i || ' hours')::interval, :now
    FROM generate_series(1, 200) i""",
    """INSERT INTO funding_rates (venue, symbol, margin_asset, kind, rate, interval_hours,
        mark_price, observed_at)
    SELECT v, 'S' || s, 'USDC', 'predicted', 0.00001 * (1 + s % 7), 1, 2000,
        :now - (m || ' minutes')::interval
    FROM unnest(ARRAY['hyperliquid','lighter','extended','paradex']) v,
         generate_series(0, 49) s, generate_series(0, 120, 2) m""",
    """INSERT INTO paper_accounts (venue, account, collateral)
    SELECT v, 'arb', 50000 FROM unnest(ARRAY['hyperliquid','lighter','extended','paradex']) v""",
    # The paper venues' net position per account and symbol behind the open legs.
    """INSERT INTO paper_positions (venue, account_id, symbol, qty, entry_price, margin,
        updated_at)
    SELECT a.venue, a.id, legs.symbol, sum(legs.qty), 2000, 400 * count(*), :now
    FROM (SELECT long_dex AS venue, symbol, long_qty AS qty FROM strategy_positions
          WHERE status = 'open'
          UNION ALL
          SELECT short_dex, symbol, -short_qty FROM strategy_positions WHERE status = 'open'
         ) legs
    JOIN paper_accounts a ON a.venue = legs.venue AND a.account = 'arb'
    GROUP BY a.venue, a.id, legs.symbol""",
]


def _fill(engine: Any) -> None:
    from sqlalchemy import text

    with engine.begin() as connection:
        for statement in _FILL:
            connection.execute(text(statement), {"now": NOW})
    # Autovacuum keeps an insert-mostly log all-visible; the bench starts from that state.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


BACKTEST_RUNS = 50  # reports in the backtest directory, 3 policies and 1,000 points each


def _write_backtests(directory: Path) -> str:
    """Reports in the backtester's layout; returns the newest run's id."""
    run_id = ""
    for n in range(BACKTEST_RUNS):
        run_id = f"2026{1 + n // 28:02d}{1 + n % 28:02d}T000000Z-{n:08x}"
        names = ("profit_erosion", "time_based", "combined")
        points = [f"2025-01-01T{h % 24:02d}:00:00+00:00" for h in range(1000)]
        document = {
            "run_id": run_id,
            "created_at": f"2026-{1 + n // 28:02d}-{1 + n % 28:02d}T00:00:00+00:00",
            "config": "configs/backtest/funding_arbitrage.yaml",
            "data": "shared/data/funding-history",
            "from": "2025-01-01",
            "to": "2025-12-31",
            "price_proxy": None,
            "policies": [
                {
                    "policy": name,
                    "net_pnl": f"{100 * k + n}.25",
                    "funding_received": "900.10",
                    "funding_paid": "-80.00",
                    "fees": "55.00",
                    "slippage": "10.00",
                    "opens": 10,
                    "closes": 9,
                    "switches": k,
                    "time_in_market_hours": 4000,
                    "apr_on_capital": "0.07",
                    "max_drawdown": "120.00",
                    "worst_unhedged_usd": "0",
                }
                for k, name in enumerate(names)
            ],
            "series": {
                name: {"at": points, "equity": ["10000.5"] * 1000, "funding": ["1.5"] * 1000}
                for name in names
            },
        }
        folder = directory / run_id
        folder.mkdir(parents=True)
        (folder / "report.json").write_text(json.dumps(document))
        (folder / "report.html").write_text("<html><body>report</body></html>")
    return run_id


def run() -> dict[str, Any]:
    from sqlalchemy import text
    from sqlalchemy.orm import Session
    from starlette.testclient import TestClient

    from core.clock import ManualClock
    from core.settings import PROJECT_ROOT, get_settings
    from dashboard.app import create_app
    from dashboard.auth import Authenticator
    from dashboard.readmodel import live
    from db.engine import engine_for
    from strategies.runtime import get_runtime, reset_runtime

    saved = dict(os.environ)
    rows: list[dict[str, Any]] = []
    try:
        with scratch_database() as url:
            os.environ.update(
                {"DATABASE_URL": url, "PERPBOT_STRATEGIES": str(PROJECT_ROOT / "configs" / "demo")}
            )
            get_settings.cache_clear()
            reset_runtime()
            engine = engine_for(url)
            _fill(engine)
            Authenticator(engine).put_user("bench", "operator", "bench-password")
            clock = ManualClock(NOW)
            backtests = Path(tempfile.mkdtemp(prefix="perpbot-bench-backtests-"))
            newest_run = _write_backtests(backtests)
            app = create_app(engine=engine, clock=clock, backtest_dir=backtests)
            client = TestClient(app)
            form = client.get("/login").text
            found = re.search(r'name="csrf_token" value="([^"]+)"', form)
            if found is None:
                raise RuntimeError("the login page has no CSRF field")
            csrf = found.group(1)
            client.post(
                "/login",
                data={"username": "bench", "password": "bench-password", "csrf_token": csrf},
            )
            with engine.connect() as connection:
                position = connection.execute(
                    text("SELECT id FROM strategy_positions WHERE status = 'open' LIMIT 1")
                ).scalar_one()
            pages = ["/", "/positions", f"/positions/{position}", "/opportunities"]
            pages += ["/transfers", "/tasks", "/api/live", "/api/pnl"]
            pages += ["/positions?closed_page=16", "/backtests", f"/backtests/{newest_run}"]
            floor_page = summary_ms(repeat_timed(lambda: client.get("/healthz"), SAMPLES))
            rows.append({"case": "floor: GET /healthz (same app, client)", **floor_page})
            page_p50 = {}
            for path in pages:

                def get(path: str = path) -> None:
                    response = client.get(path)
                    if response.status_code != 200:
                        raise RuntimeError(f"{path}: {response.status_code}")

                stats = summary_ms(repeat_timed(get, SAMPLES))
                page_p50[path] = stats["p50_ms"]
                name = "/positions/{id}" if path.startswith("/positions/") else path
                name = "/backtests/{run_id}" if path.startswith("/backtests/") else name
                rows.append(
                    {
                        "case": f"page {name}",
                        **stats,
                        "x_floor": round(stats["p50_ms"] / floor_page["p50_ms"], 1),
                    }
                )
            runtime = get_runtime()
            scope_now = clock.now()

            def live_query() -> None:
                with Session(engine) as session:
                    live.snapshot(session, runtime_scope(runtime, scope_now))

            def select_one() -> None:
                Session(engine).execute(text("SELECT 1")).close()

            floor_sql = summary_ms(repeat_timed(select_one, SAMPLES))
            rows.append({"case": "floor: SELECT 1 (same engine)", **floor_sql})
            live_stats = summary_ms(repeat_timed(live_query, SAMPLES))
            rows.append(
                {
                    "case": "live update query",
                    **live_stats,
                    "x_floor": round(live_stats["p50_ms"] / floor_sql["p50_ms"], 1),
                }
            )
            engine.dispose()  # before the scratch database is dropped
            runtime.engine.dispose()
            shutil.rmtree(backtests)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
        reset_runtime()
    worst = max(page_p50.values())
    met = worst < PAGE_TARGET_MS and live_stats["p50_ms"] < LIVE_TARGET_MS
    return {
        "name": "dashboard",
        "title": f"Dashboard with 1,000 positions and 100,000 events ({SAMPLES} samples each)",
        "rows": rows,
        "target": f"every page p50 < {PAGE_TARGET_MS:g} ms, live query p50 < {LIVE_TARGET_MS:g} ms",
        "met": met,
        "notes": [
            f"slowest page p50: {worst:.1f} ms ({max(page_p50, key=lambda page: page_p50[page])})",
            f"live query p50: {live_stats['p50_ms']:.1f} ms",
        ],
    }


def runtime_scope(runtime: Any, now: datetime) -> Any:
    from dashboard.readmodel.scope import Scope

    return Scope(runtime.configs, now, True)

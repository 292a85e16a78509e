"""The breaker check and a metrics scrape over the dashboard benchmark's data set.

Set-up: a throwaway database filled like `bench_dashboard` (1,000 positions, 100,000 events,
5,000 task runs, 200 transfers, paper accounts) plus 50 active halts' worth of history, the
demo's strategies (funding arbitrage on four paper venues, a grid). Measured in one process,
`SAMPLES` times each: one whole `BreakerCheck.run()` (venue probes, figures for every
strategy and the deployment, state alerts, with a recording sink), and one scrape of the
Prometheus registry (`generate_latest`). Floor in the same run: `SELECT 1` on the same
engine. Both run every 30 s (beat) or per scrape, so the targets are loose absolutes: what
matters is that neither grows with history into seconds.
"""

from __future__ import annotations

import os
from datetime import UTC, timedelta
from typing import Any

from bench import repeat_timed, scratch_database, summary_ms
from bench.bench_dashboard import NOW, _fill

SAMPLES = 15
CHECK_TARGET_MS = 500.0
SCRAPE_TARGET_MS = 200.0


class _Recorded:
    """Alerts kept in memory: the delivery (HTTP) is not what this measures."""

    def __init__(self) -> None:
        self.sent = 0

    def send(self, alert: Any) -> bool:
        self.sent += 1
        return True


def run() -> dict[str, Any]:
    from prometheus_client import generate_latest
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from core.clock import ManualClock
    from core.settings import PROJECT_ROOT, get_settings, load_settings
    from db.engine import engine_for
    from db.repositories.halts import HaltRepository
    from strategies.breaker_check import BreakerCheck
    from strategies.metrics import registry_for
    from strategies.runtime import Runtime, load_configs, reset_runtime, strategy_files

    saved = dict(os.environ)
    rows: list[dict[str, Any]] = []
    try:
        with scratch_database() as url:
            os.environ["DATABASE_URL"] = url
            get_settings.cache_clear()
            reset_runtime()
            engine = engine_for(url)
            _fill(engine)
            with Session(engine) as session, session.begin():
                halts = HaltRepository(session)
                for i in range(50):
                    at = NOW - timedelta(hours=50 - i)
                    halts.trip("grid-demo", "manual", f"drill {i}", at)
                    halts.lift("grid-demo", "bench", at + timedelta(minutes=5))
            configs = load_configs(strategy_files(PROJECT_ROOT / "configs" / "demo"))
            runtime = Runtime(
                settings=load_settings(PERPBOT_MODE="paper"),
                engine=engine,
                clock=ManualClock(NOW.astimezone(UTC)),
                configs=configs,
                alerts=_Recorded(),
            )

            def select_one() -> None:
                Session(engine).execute(text("SELECT 1")).close()

            floor = summary_ms(repeat_timed(select_one, SAMPLES))
            rows.append({"case": "floor: SELECT 1 (same engine)", **floor})
            check = summary_ms(repeat_timed(lambda: BreakerCheck(runtime).run(), SAMPLES))
            rows.append(
                {
                    "case": "breaker check (probes, figures, alerts)",
                    **check,
                    "x_floor": round(check["p50_ms"] / floor["p50_ms"], 1),
                }
            )
            registry = registry_for(runtime)
            scrape = summary_ms(repeat_timed(lambda: generate_latest(registry), SAMPLES))
            size = len(generate_latest(registry))
            rows.append(
                {
                    "case": f"metrics scrape ({size:,} bytes)",
                    **scrape,
                    "x_floor": round(scrape["p50_ms"] / floor["p50_ms"], 1),
                }
            )
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
        reset_runtime()
    met = check["p50_ms"] < CHECK_TARGET_MS and scrape["p50_ms"] < SCRAPE_TARGET_MS
    return {
        "name": "ops",
        "title": f"Breaker check and metrics scrape, 1,000 positions ({SAMPLES} samples each)",
        "rows": rows,
        "target": f"breaker check p50 < {CHECK_TARGET_MS:g} ms, "
        f"scrape p50 < {SCRAPE_TARGET_MS:g} ms",
        "met": met,
        "notes": [
            f"breaker check p50 {check['p50_ms']:.1f} ms, scrape p50 {scrape['p50_ms']:.1f} ms",
        ],
    }

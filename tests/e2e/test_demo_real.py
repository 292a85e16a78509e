"""`DEMO_DATA=real trading_bot.py demo`: the sample's history through worker and beat.

A short run from the evening before the sample's busiest day (2025-10-10): the paper venues'
market is the sample's hourly history, the strategy opens on the sample's venues, and the
funding it is paid is the rate each venue settled at that hour.
"""

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, pool, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core.clock import ManualClock
from core.services import drop_database
from core.settings import PROJECT_ROOT
from db.models import FundingPayment, PaperMarketTick, StrategyPosition
from funding_service.history.importer import load_history
from funding_service.history.mapping import ColumnMapping
from tests.e2e.test_demo import _celery_processes_with
from tests.support.environment import paper_env

pytestmark = pytest.mark.slow

SAMPLE = PROJECT_ROOT / "data" / "sample" / "funding-history"
START = datetime(2025, 10, 10, 20, tzinfo=UTC)
VENUES = {"binance", "bybit", "hyperliquid"}


def _sample_rates() -> dict[tuple[str, str, datetime], Decimal]:
    """(venue, symbol, hour) -> the rate the venue settled in that hour (traded margin)."""
    batch = load_history(SAMPLE, ColumnMapping(), ManualClock(datetime(2026, 12, 1, tzinfo=UTC)))
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    found = {}
    for i in range(len(batch)):
        venue, asset = str(batch.venue[i]), str(batch.margin_asset[i])
        if asset != ("USDC" if venue == "hyperliquid" else "USDT"):
            continue
        at = (epoch + timedelta(microseconds=int(batch.settled_us[i]))).replace(
            minute=0, second=0, microsecond=0
        )
        found[(venue, str(batch.symbol[i]), at)] = Decimal(repr(float(batch.rate[i])))
    return found


def test_real_history_demo_trades_the_sample_and_is_paid_its_settlements(database_url):
    name = f"perpbot_demo_real_test_{uuid.uuid4().hex[:6]}"
    env = paper_env(
        {
            "DEMO_SECONDS": "30",
            "DEMO_DATA": "real",
            "DEMO_FROM": START.isoformat(),
            "COLUMNS": "160",
        }
    )
    env.pop("DATABASE_URL")
    demo_url = make_url(database_url).set(database=name).render_as_string(False)
    try:
        result = subprocess.run(
            [
                sys.executable,
                "trading_bot.py",
                "demo",
                "--database",
                name,
                "--flower-port",
                "0",
                "--dashboard-port",
                "0",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "real history:" in result.stdout and "demo finished" in result.stdout
        assert "prices: binance mark_price" in result.stdout
        summary = json.loads((PROJECT_ROOT / ".run" / "demo" / "summary.json").read_text())
        assert "arb-demo" in {p["strategy"] for p in summary["positions"]}
        engine = create_engine(demo_url, poolclass=pool.NullPool)
        with Session(engine) as session:
            positions = session.scalars(select(StrategyPosition)).all()
            payments = session.scalars(select(FundingPayment)).all()
            ticks = session.scalars(select(PaperMarketTick)).all()
        engine.dispose()
        assert {t.venue for t in ticks} == VENUES
        assert min(t.ts for t in ticks) == START - timedelta(hours=24)
        assert positions and all({p.long_dex, p.short_dex} <= VENUES for p in positions)
        assert min(p.created_at for p in positions) >= START  # the clock runs from DEMO_FROM
        assert payments, "the positions were paid funding"
        sample = _sample_rates()
        for payment in payments:  # each one is the venue's real settlement of that hour
            key = (payment.venue, payment.symbol, payment.funding_time)
            assert key in sample, key
            assert payment.rate == sample[key], key
        assert _celery_processes_with(name) == []
    finally:
        drop_database(demo_url)

"""`trading_bot.py demo`: a short run ends on its own with positions and funding, no leftovers."""

import json
import subprocess
import sys
import uuid

import psutil
import pytest
from sqlalchemy import create_engine, func, pool, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core.services import drop_database
from core.settings import PROJECT_ROOT
from db.models import FundingPayment, Order, StrategyPosition
from tests.support.environment import paper_env

pytestmark = pytest.mark.slow


def _celery_processes_with(marker: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline", "environ"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
            env = proc.info["environ"] or {}
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if "celery" in cmd and env.get("DATABASE_URL", "").endswith(marker):
            found.append(proc)
    return found


def test_short_demo_opens_positions_collects_funding_and_cleans_up(database_url):
    name = f"perpbot_demo_test_{uuid.uuid4().hex[:6]}"
    env = paper_env({"DEMO_SECONDS": "45", "COLUMNS": "160"})
    env.pop("DATABASE_URL")  # the demo finds the server itself and makes its own database
    try:
        result = subprocess.run(
            [sys.executable, "trading_bot.py", "demo", "--database", name, "--flower-port", "0"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "demo finished" in result.stdout
        summary = json.loads((PROJECT_ROOT / ".run" / "demo" / "summary.json").read_text())
        strategies = {p["strategy"] for p in summary["positions"]}
        assert {"arb-demo", "grid-demo"} <= strategies
        demo_url = make_url(database_url).set(database=name).render_as_string(False)
        engine = create_engine(demo_url, poolclass=pool.NullPool)
        with Session(engine) as session:
            arb_positions = session.scalar(
                select(func.count())
                .select_from(StrategyPosition)
                .where(StrategyPosition.strategy_name == "arb-demo")
            )
            payments = session.scalar(select(func.count()).select_from(FundingPayment))
            funding = session.scalar(
                select(
                    func.sum(StrategyPosition.long_funding_usd + StrategyPosition.short_funding_usd)
                )
            )
            duplicate_ids = session.scalar(
                select(func.count()).select_from(
                    select(Order.client_order_id)
                    .group_by(Order.client_order_id)
                    .having(func.count() > 1)
                    .subquery()
                )
            )
        engine.dispose()
        assert arb_positions >= 1
        assert payments > 0 and funding != 0
        assert duplicate_ids == 0
        assert _celery_processes_with(name) == []  # worker, beat and pool children all gone
    finally:
        drop_database(make_url(database_url).set(database=name).render_as_string(False))

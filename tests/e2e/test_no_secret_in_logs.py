"""A full run with every password set shows none of them: not in any log, any output, any run
file meant for people, nor on any command line.

The broker is an embedded Redis with its generated password; the database URL carries a
password (the local server trusts its clients, so any password reaches it); Flower has one.
A worker and beat tick a strategy, the CLI shows status and services and reports bad URLs,
and the demo runs for a few seconds with its own worker, beat and Flower.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import psutil
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core.embedded_redis import start_embedded_redis, stop_embedded_redis
from core.services import drop_database
from core.settings import PROJECT_ROOT
from db.models import TaskRun
from tests.support.environment import paper_env
from tests.support.waiting import wait_until
from tests.support.workers import celery_beat, celery_worker

pytestmark = pytest.mark.slow

DB_PASSWORD = "db-secret-5b1e"
FLOWER_PASSWORD = "flower-secret-9c2d"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_with_password():
    run_dir = PROJECT_ROOT / ".run" / f"test-secrets-{uuid.uuid4().hex[:8]}"
    run_dir.mkdir(parents=True)
    port = _free_port()
    try:
        url = start_embedded_redis(run_dir, port=port)
        yield url, run_dir
    finally:
        stop_embedded_redis(run_dir, port=port)
        shutil.rmtree(run_dir, ignore_errors=True)


def _run(args: list[str], env: dict[str, str], timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, "trading_bot.py", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return f"$ {' '.join(args)} -> {result.returncode}\n{result.stdout}{result.stderr}"


def _cmdlines() -> str:
    lines = []
    for proc in psutil.process_iter(["cmdline"]):
        lines.append(" ".join(proc.info["cmdline"] or []))
    return "\n".join(lines)


def test_a_full_run_with_passwords_set_shows_none_of_them(
    redis_with_password, database_url, tmp_path, clean_db
):
    redis_url, redis_dir = redis_with_password
    redis_password = make_url(redis_url.replace("redis://", "postgresql://")).password
    assert redis_password and (redis_dir / "redis" / "password").stat().st_mode & 0o077 == 0
    with_password = make_url(database_url).set(password=DB_PASSWORD)
    db_url = with_password.render_as_string(hide_password=False)
    configs = tmp_path / "strategies"
    configs.mkdir()
    (configs / "probe.yaml").write_text(
        "type: probe\nname: secretive\nphase_seconds: 0.05\n"
        "intervals: {monitor_seconds: 1.0, rebalance_seconds: 1.0, open_seconds: 1.0}\n"
    )
    run_dir = tmp_path / "run"
    env = paper_env(
        {
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "FLOWER_PASSWORD": FLOWER_PASSWORD,
            "PERPBOT_STRATEGIES": str(configs),
            "PERPBOT_RUN_DIR": str(run_dir),
            "COLUMNS": "200",
        }
    )
    outputs: list[str] = []
    logs: list[Path] = [tmp_path / "worker.log"]
    with celery_worker(env=env, log_path=logs[0]), celery_beat(env=env, schedule_dir=tmp_path):
        logs.append(tmp_path / "beat.log")
        wait_until(
            lambda: _succeeded(clean_db) >= 3,
            timeout=60,
            message=lambda: logs[0].read_text()[-2000:],
        )
        outputs.append(_cmdlines())
        outputs.append(_run(["status"], env))
        outputs.append(_run(["services", "up"], env))
        outputs.append(_run(["pause", "secretive", "--wait"], env))
    unreachable = make_url(redis_url.replace("redis://", "postgresql://")).set(port=_free_port())
    bad_redis = unreachable.render_as_string(hide_password=False).replace("postgresql", "redis")
    outputs.append(_run(["services", "up"], {**env, "REDIS_URL": bad_redis}))
    outputs.append(_run(["status"], {**env, "DATABASE_URL": db_url.replace("postgresql", "mysql")}))
    assert "***" in outputs[-1] and "***" in outputs[-2]  # the URLs were shown, redacted

    demo = f"perpbot_demo_secrets_{uuid.uuid4().hex[:6]}"
    demo_env = {**env, "DEMO_SECONDS": "10"}
    try:
        outputs.append(
            _run(
                ["demo", "--database", demo, "--flower-port", str(_free_port())],
                demo_env,
                timeout=240,
            )
        )
    finally:
        drop_database(make_url(database_url).set(database=demo).render_as_string(False))
    assert "demo finished" in outputs[-1], outputs[-1][-3000:]
    demo_dir = PROJECT_ROOT / ".run" / "demo"
    logs += [demo_dir / f"{name}.log" for name in ("worker", "beat", "flower")]
    logs += [demo_dir / "summary.json", run_dir / "services.json"]

    shown = "\n".join(outputs + [path.read_text(errors="replace") for path in logs])
    for secret in (redis_password, DB_PASSWORD, FLOWER_PASSWORD):
        assert secret not in shown
    assert (run_dir / "services.env").stat().st_mode & 0o077 == 0  # it holds them: 0600


def _succeeded(engine) -> int:
    with Session(engine) as session:
        runs = session.scalars(select(TaskRun).where(TaskRun.status == "succeeded")).all()
    return len(runs)

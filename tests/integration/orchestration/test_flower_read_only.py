"""Flower as `trading_bot.py flower` starts it: its password is not operator rights.

Logged in, every endpoint that would start or stop something answers 403 (nothing enqueued,
the worker still alive); the pages and the read API work; the password is in no process's
command line.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.settings import PROJECT_ROOT
from db.models import TaskRun
from tests.support.celery_app import app
from tests.support.environment import paper_env
from tests.support.waiting import wait_until
from tests.support.workers import celery_worker, stop_process

pytestmark = pytest.mark.slow

PASSWORD = "flower-test-password-7f3a"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(url: str, method: str = "GET", body: dict | None = None, auth: bool = True) -> int:
    data = json.dumps(body or {}).encode() if method == "POST" else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if auth:
        token = base64.b64encode(f"perpbot:{PASSWORD}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError):
        return 0


def _flower_process(cli: subprocess.Popen[bytes]) -> psutil.Process | None:
    for child in psutil.Process(cli.pid).children(recursive=True):
        if "flower" in " ".join(child.cmdline()):
            return child
    return None


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_flower_refuses_every_mutating_endpoint_and_serves_the_read_only_ones(
    probe_configs, clean_db, tmp_path
):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "flower.log").open("wb")
    with celery_worker(concurrency=1) as worker:
        [worker_name] = [name for reply in app.control.ping(timeout=5) for name in reply]
        cli = subprocess.Popen(
            [sys.executable, "trading_bot.py", "flower", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=paper_env({"FLOWER_PASSWORD": PASSWORD}),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until(
                lambda: _request(f"{base}/api/workers") == 200,
                timeout=60,
                message=lambda: (tmp_path / "flower.log").read_text()[-2000:],
                interval=0.3,
            )
            flower = _flower_process(cli)
            assert flower is not None
            for pid in (cli.pid, flower.pid):
                assert PASSWORD not in _cmdline(pid)

            assert _request(f"{base}/workers", auth=False) == 401
            for page in ("/workers", f"/worker/{worker_name}", "/tasks", "/broker", "/api/tasks"):
                assert _request(f"{base}{page}") == 200, page
            mutating = [
                "/api/task/send-task/perpbot.strategy.open",
                "/api/task/apply/perpbot.strategy.open",
                "/api/task/async-apply/perpbot.strategy.open",
                "/api/task/revoke/00000000-0000-0000-0000-000000000000",
                "/api/task/abort/00000000-0000-0000-0000-000000000000",
                "/api/task/rate-limit/perpbot.strategy.open",
                "/api/task/timeout/perpbot.strategy.open",
                f"/api/worker/shutdown/{worker_name}",
                f"/api/worker/pool/restart/{worker_name}",
                f"/api/worker/pool/grow/{worker_name}",
                f"/api/worker/pool/shrink/{worker_name}",
                f"/api/worker/pool/autoscale/{worker_name}",
                f"/api/worker/queue/add-consumer/{worker_name}",
                f"/api/worker/queue/cancel-consumer/{worker_name}",
            ]
            body = {"args": ["alpha"], "kwargs": {"trigger": "manual"}, "queue": "strategy"}
            refused = {path: _request(f"{base}{path}", "POST", body) for path in mutating}
            assert refused == dict.fromkeys(mutating, 403)
        finally:
            stop_process(cli)
            log.close()
        # The worker is alive and takes the strategy queue in order: what runs after a
        # ping task sent now shows whether Flower had enqueued anything before it.
        assert worker.poll() is None
        assert app.send_task("perpbot.strategy.monitor", args=("beta",)).get(timeout=30)
        assert [n for reply in app.control.ping(timeout=5) for n in reply] == [worker_name]
    with Session(clean_db) as session:
        # (the worker's start-up repair of beta is a run of its own: phase "start")
        phases = session.scalars(
            select(TaskRun.strategy_name).where(TaskRun.phase != "start")
        ).all()
    assert phases == ["beta"]

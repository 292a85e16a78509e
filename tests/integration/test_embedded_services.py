"""The embedded path: PostgreSQL and Redis from pip packages, used even where local ones run."""

import os
import shutil
import socket
import uuid

import psutil
import pytest
import redis
from sqlalchemy.engine import make_url

from core.embedded_redis import start_embedded_redis, stop_embedded_redis
from core.services import ensure_database, start_embedded_postgres, stop_embedded_postgres
from core.settings import PROJECT_ROOT
from db.migrate import upgrade
from tests.support.workers import celery_worker

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded():
    # Not under pytest's temp root: pytest resets that to mode 0700 whenever a pytest run
    # starts, which would lock the embedded server's unprivileged user out mid-test.
    run_dir = PROJECT_ROOT / ".run" / f"test-embedded-{uuid.uuid4().hex[:8]}"
    run_dir.mkdir(parents=True)
    pg_port, redis_port = _free_port(), _free_port()
    try:
        server = start_embedded_postgres(run_dir, port=pg_port)
        redis_url = start_embedded_redis(run_dir, port=redis_port)
        # A second call finds the running servers instead of starting new ones.
        assert start_embedded_postgres(run_dir, port=pg_port) == server
        assert start_embedded_redis(run_dir, port=redis_port) == redis_url
        yield make_url(server).set(database="perpbot").render_as_string(False), redis_url, run_dir
    finally:
        stop_embedded_redis(run_dir, port=redis_port)
        stop_embedded_postgres(run_dir)
        shutil.rmtree(run_dir, ignore_errors=True)


def test_embedded_redis_has_a_password_only_its_owner_can_read(embedded):
    _, redis_url, run_dir = embedded
    password = redis.Redis.from_url(redis_url).connection_pool.connection_kwargs["password"]
    assert password and len(password) >= 32
    with pytest.raises(redis.AuthenticationError):
        redis.Redis.from_url(redis_url.replace(f":{password}@", "")).ping()
    for name in ("password", "redis.conf"):
        assert (run_dir / "redis" / name).stat().st_mode & 0o777 == 0o600, name
    # `info` holds what could be read (a process that ended meanwhile, e.g. a zombie of another
    # test process, gives None instead of raising).
    servers = [
        " ".join(p.info["cmdline"] or [])
        for p in psutil.process_iter(["cmdline"])
        if "redis-server" in " ".join(p.info["cmdline"] or [])
    ]
    assert servers and all(password not in cmdline for cmdline in servers)


def test_embedded_servers_migrate_and_run_a_celery_task(embedded):
    database_url, redis_url, _ = embedded
    ensure_database(database_url)
    upgrade(database_url)
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url}
    with celery_worker(env=env):
        # The worker's reclaimer keeps its heartbeat in the password-protected Redis.
        broker = redis.Redis.from_url(redis_url)
        prefix = os.environ["PERPBOT_BROKER_PREFIX"]
        assert list(broker.scan_iter(match=f"{prefix}perpbot:alive:*"))
        from celery import Celery

        client = Celery(broker=redis_url, backend=redis_url)
        client.config_from_object("celeryconfig")
        client.conf.broker_url = redis_url
        client.conf.result_backend = redis_url
        try:
            answer = client.send_task("perpbot.health.ping").get(timeout=30)
        finally:
            client.close()
    assert answer["pong"] is True
    assert os.environ["DATABASE_URL"] != database_url  # the suite's own database is untouched

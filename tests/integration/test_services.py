"""Service bootstrap against real servers."""

import socket

import pytest

from core.errors import ServiceUnavailableError
from core.services import ensure_postgres, ensure_redis, ensure_services


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_database_url_is_an_error_naming_it(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{_free_port()}/x")
    with pytest.raises(ServiceUnavailableError, match=r"DATABASE_URL is set to .* unreachable"):
        ensure_postgres(tmp_path, announce=False)


def test_unreachable_redis_url_is_an_error_naming_it(monkeypatch, tmp_path):
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{_free_port()}/0")
    with pytest.raises(ServiceUnavailableError, match=r"REDIS_URL is set to .* unreachable"):
        ensure_redis(tmp_path, announce=False)


def test_second_call_reuses_what_the_first_found(tmp_path):
    first = ensure_services(tmp_path, announce=False)
    second = ensure_services(tmp_path, announce=False)
    assert first == second
    env = (tmp_path / "services.env").read_text()
    assert f"DATABASE_URL={first.postgres.url}" in env
    assert f"REDIS_URL={first.redis.url}" in env

"""Service bootstrap against real servers."""

import socket

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from core.errors import ConfigError, ServiceUnavailableError
from core.services import ensure_postgres, ensure_redis, ensure_services


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_database_url_is_an_error_naming_it(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{_free_port()}/x")
    with pytest.raises(ServiceUnavailableError, match=r"DATABASE_URL is set to .* unreachable"):
        ensure_postgres(tmp_path, announce=False)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_each_accepted_database_url_form_reaches_the_server(
    monkeypatch, tmp_path, database_url, scheme
):
    given = make_url(database_url).render_as_string(hide_password=False)
    given = f"{scheme}://{given.partition('://')[2]}"
    monkeypatch.setenv("DATABASE_URL", given)
    endpoint = ensure_postgres(tmp_path, announce=False)
    assert endpoint.source == "env"
    assert endpoint.url == database_url  # the one form every process connects with
    engine = create_engine(endpoint.url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT current_database()")).scalar_one() == (
                make_url(database_url).database
            )
    finally:
        engine.dispose()


def test_an_unsupported_database_url_is_a_settings_error_naming_it(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "mysql://trader:s3cret@127.0.0.1/perpbot")
    with pytest.raises(ConfigError, match=r"DATABASE_URL: must be a PostgreSQL URL") as info:
        ensure_postgres(tmp_path, announce=False)
    assert "trader:***@127.0.0.1" in str(info.value)
    assert "s3cret" not in str(info.value)


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


def test_a_dotenv_database_url_is_the_operators_choice_too(monkeypatch, tmp_path):
    # Set in .env (not the environment): it is used, or refused, never silently replaced.
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"DATABASE_URL=postgresql://u:pw@127.0.0.1:{_free_port()}/x\n")
    with pytest.raises(
        ServiceUnavailableError, match=r"DATABASE_URL is set to .*u:\*\*\*@"
    ) as info:
        ensure_postgres(tmp_path, announce=False)
    assert ":pw@" not in str(info.value)


def test_the_run_files_are_readable_by_their_owner_only(tmp_path):
    ensure_services(tmp_path, announce=False)
    for name in ("services.env", "services.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name

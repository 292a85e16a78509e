import pytest
from sqlalchemy.engine import make_url

from core.errors import ConfigError
from core.settings import DEFAULT_DATABASE_URL, get_settings, load_settings, redact_url


def test_malformed_database_url_names_the_variable(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/perpbot")
    with pytest.raises(ConfigError, match=r"DATABASE_URL: must be a PostgreSQL URL"):
        load_settings()


@pytest.mark.parametrize(
    "given",
    [
        "postgresql://trader:s3cret@db.example.com:6543/perpbot",
        "postgres://trader:s3cret@db.example.com:6543/perpbot",
        "postgresql+psycopg://trader:s3cret@db.example.com:6543/perpbot",
        "postgresql+psycopg2://trader:s3cret@db.example.com:6543/perpbot",  # older .env files
        "PostgreSQL://trader:s3cret@db.example.com:6543/perpbot",
    ],
)
def test_every_accepted_database_url_form_is_spoken_to_with_psycopg3(monkeypatch, given):
    monkeypatch.setenv("DATABASE_URL", given)
    settings = load_settings()
    assert settings.database_url == "postgresql+psycopg://trader:s3cret@db.example.com:6543/perpbot"
    assert make_url(settings.database_url).get_dialect().driver == "psycopg"


def test_a_unix_socket_url_keeps_its_host_parameter(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres:///perpbot?host=/var/run/postgresql")
    assert load_settings().database_url == "postgresql+psycopg:///perpbot?host=/var/run/postgresql"


def test_the_default_database_url_names_psycopg3():
    assert make_url(DEFAULT_DATABASE_URL).get_dialect().driver == "psycopg"


@pytest.mark.parametrize(
    "given",
    [
        "mysql://trader:s3cret@db.example.com/perpbot",
        "sqlite:///perpbot.db",
        "postgresql+asyncpg://trader:s3cret@db.example.com/perpbot",
        "garbage",
        "http://[trader:s3cret@db",
    ],
)
def test_an_unsupported_database_url_names_the_variable_and_hides_the_password(monkeypatch, given):
    monkeypatch.setenv("DATABASE_URL", given)
    with pytest.raises(ConfigError, match=r"DATABASE_URL: .*PostgreSQL URL") as info:
        load_settings()
    assert "s3cret" not in str(info.value)


def test_the_refused_url_is_shown_with_its_password_redacted(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://trader:s3cret@db.example.com/perpbot")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "'mysql://trader:***@db.example.com/perpbot'" in str(info.value)
    assert "postgresql://, postgres://, postgresql+psycopg://" in str(info.value)


def test_redaction_covers_passwords_in_the_query_string():
    url = "postgresql://db/perpbot?user=trader&password=s3cret&sslmode=require"
    assert redact_url(url) == "postgresql://db/perpbot?user=trader&password=***&sslmode=require"


def test_unknown_mode_names_the_variable(monkeypatch):
    monkeypatch.setenv("PERPBOT_MODE", "yolo")
    with pytest.raises(
        ConfigError, match=r"PERPBOT_MODE: Input should be 'paper', 'dry-run' or 'live'"
    ):
        load_settings()


def test_redis_url_without_host_is_refused(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://")
    with pytest.raises(ConfigError, match=r"REDIS_URL: has no host"):
        load_settings()


def test_every_bad_variable_is_reported_at_once(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "nope")
    monkeypatch.setenv("PERPBOT_LOG_LEVEL", "LOUD")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "DATABASE_URL" in str(info.value)
    assert "PERPBOT_LOG_LEVEL" in str(info.value)


def test_soft_limit_must_be_below_hard_limit(monkeypatch):
    monkeypatch.setenv("PERPBOT_TASK_SOFT_TIME_LIMIT", "300")
    monkeypatch.setenv("PERPBOT_TASK_TIME_LIMIT", "300")
    with pytest.raises(ConfigError, match="PERPBOT_TASK_SOFT_TIME_LIMIT must be below"):
        load_settings()


def test_live_needs_mode_and_explicit_confirmation(monkeypatch):
    monkeypatch.setenv("PERPBOT_MODE", "live")
    assert load_settings().is_live is False
    monkeypatch.setenv("PERPBOT_LIVE_CONFIRM", "true")
    assert load_settings().is_live is True


def test_get_settings_is_built_once_and_not_at_import():
    get_settings.cache_clear()
    first = get_settings()
    assert get_settings() is first
    assert first.mode == "paper"

import pytest

from core.errors import ConfigError
from core.settings import get_settings, load_settings


def test_malformed_database_url_names_the_variable(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/perpbot")
    with pytest.raises(ConfigError, match=r"DATABASE_URL: must be a PostgreSQL URL"):
        load_settings()


def test_unknown_mode_names_the_variable(monkeypatch):
    monkeypatch.setenv("PERPBOT_MODE", "yolo")
    with pytest.raises(ConfigError, match=r"PERPBOT_MODE: Input should be 'paper' or 'live'"):
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

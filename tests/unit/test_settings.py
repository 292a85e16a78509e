import subprocess

import pytest
from sqlalchemy.engine import make_url

from core.errors import ConfigError
from core.settings import (
    DEFAULT_DATABASE_URL,
    LIVE_CONFIRM_PHRASE,
    PROJECT_ROOT,
    configured_value,
    get_settings,
    load_settings,
    redact_url,
)


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
    monkeypatch.setenv("PERPBOT_LIVE_CONFIRM", LIVE_CONFIRM_PHRASE)
    assert load_settings().is_live is True


def test_get_settings_is_built_once_and_not_at_import():
    get_settings.cache_clear()
    first = get_settings()
    assert get_settings() is first
    assert first.mode == "paper"


@pytest.mark.parametrize("given", ["1", "y", "on", "true", "yes", "TRUE"])
def test_a_boolean_is_not_a_live_confirmation_and_the_error_says_the_phrase(monkeypatch, given):
    monkeypatch.setenv("PERPBOT_MODE", "live")
    monkeypatch.setenv("PERPBOT_LIVE_CONFIRM", given)
    with pytest.raises(ConfigError, match="PERPBOT_LIVE_CONFIRM: must be exactly") as info:
        load_settings()
    assert f'"{LIVE_CONFIRM_PHRASE}"' in str(info.value)


def test_the_deployment_mode_is_live_only_when_confirmed(monkeypatch):
    monkeypatch.setenv("PERPBOT_MODE", "live")
    assert load_settings().deployment_mode == "paper"  # unconfirmed live trades on paper
    monkeypatch.setenv("PERPBOT_LIVE_CONFIRM", "")  # an empty variable is no confirmation
    assert load_settings().deployment_mode == "paper"
    monkeypatch.setenv("PERPBOT_LIVE_CONFIRM", LIVE_CONFIRM_PHRASE)
    assert load_settings().deployment_mode == "live"


@pytest.mark.parametrize(
    "line", ["PERPBOT_MODE=live", f"PERPBOT_LIVE_CONFIRM={LIVE_CONFIRM_PHRASE}", "perpbot_mode=x"]
)
def test_the_mode_and_the_confirmation_are_never_read_from_a_dotenv(monkeypatch, tmp_path, line):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"{line}\n")
    with pytest.raises(ConfigError, match="read from the process environment only") as info:
        load_settings()
    assert line.partition("=")[0].upper() in str(info.value)


def test_a_dotenv_url_wins_over_the_services_file_and_the_environment_over_both(
    monkeypatch, tmp_path
):
    # conftest's service bootstrap wrote .run/services.env with the suite's servers.
    services = (PROJECT_ROOT / ".run" / "services.env").read_text()
    assert "DATABASE_URL=" in services
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL")
    (tmp_path / ".env").write_text("DATABASE_URL=postgresql://trader:pw@from-dotenv/perpbot\n")
    assert load_settings().database_url.endswith("@from-dotenv/perpbot")
    assert configured_value("DATABASE_URL") == "postgresql://trader:pw@from-dotenv/perpbot"
    monkeypatch.setenv("DATABASE_URL", "postgresql://from-env/perpbot")
    assert load_settings().database_url == "postgresql+psycopg://from-env/perpbot"


def test_no_password_or_key_is_shown_by_the_settings(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://trader:s3cret@db/perpbot")
    monkeypatch.setenv("REDIS_URL", "redis://:r3dis@cache:6379/0")
    monkeypatch.setenv("FLOWER_PASSWORD", "fl0wer")
    settings = load_settings()
    for secret in ("s3cret", "r3dis", "fl0wer"):
        assert secret not in repr(settings) + str(settings)
    assert "fl0wer" not in str(settings.model_dump())  # a SecretStr even when dumped
    assert settings.flower_password is not None
    assert settings.flower_password.get_secret_value() == "fl0wer"


def test_message_signing_needs_all_three_paths_and_each_must_exist(monkeypatch, tmp_path):
    key = tmp_path / "perpbot.key"
    key.write_text("key")
    monkeypatch.setenv("PERPBOT_SIGNING_KEY", str(key))
    with pytest.raises(ConfigError, match="set PERPBOT_SIGNING_CERT, PERPBOT_SIGNING_CERT_STORE"):
        load_settings()
    monkeypatch.setenv("PERPBOT_SIGNING_CERT", str(tmp_path / "missing.pem"))
    monkeypatch.setenv("PERPBOT_SIGNING_CERT_STORE", str(tmp_path))
    with pytest.raises(ConfigError, match=r"PERPBOT_SIGNING_CERT: .*missing.pem does not exist"):
        load_settings()


def test_a_dotenv_file_is_git_ignored():
    # It is where an operator puts passwords; `git add .` must never pick it up.
    for name in (".env", ".env.live"):
        ignored = subprocess.run(["git", "check-ignore", "-q", name], cwd=PROJECT_ROOT)
        assert ignored.returncode == 0, name


def test_an_empty_password_variable_is_no_password(monkeypatch):
    monkeypatch.setenv("FLOWER_PASSWORD", "")
    monkeypatch.setenv("PERPBOT_SIGNING_KEY_PASSWORD", "")
    settings = load_settings()
    assert settings.flower_password is None and settings.signing_key_password is None

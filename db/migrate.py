"""Run Alembic migrations from code (CLI, tests, demo)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from core.settings import PROJECT_ROOT


def alembic_config(database_url: str | None = None, mode: str | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "db" / "migrations"))
    config.attributes["configure_logger"] = False
    if database_url:
        config.attributes["database_url"] = database_url
    if mode:
        config.attributes["deployment_mode"] = mode
    return config


def upgrade(
    database_url: str | None = None, revision: str = "head", mode: str | None = None
) -> None:
    """Migrate to `revision`. A new database records `mode` (default: this process's
    `Settings.deployment_mode`); one that records the other mode is refused."""
    command.upgrade(alembic_config(database_url, mode), revision)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)

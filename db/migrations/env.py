"""Alembic environment: migrates the database named by the caller or by DATABASE_URL.

The mode of the migrating process (`db.migrate.upgrade(mode=...)`, else its settings) is what
migration 0006 records; a database that already records the other mode is refused.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

import db.models  # noqa: F401  (registers every table)
from db.base import Base
from db.deployment import recorded_mode, refuse_other_mode

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if url:
        return str(url)
    from core.settings import get_settings

    return get_settings().database_url


def _deployment_mode() -> str:
    """The mode this migration records on a new database (0006) and checks on an old one."""
    mode = config.attributes.get("deployment_mode")
    if mode is None:
        from core.settings import get_settings

        mode = get_settings().deployment_mode
    config.attributes["deployment_mode"] = mode
    return str(mode)


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, compare_type=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        # Two processes migrating at once (worker and beat starting together) take turns.
        connection.exec_driver_sql("SELECT pg_advisory_lock(7446353)")
        try:
            mode = _deployment_mode()
            if recorded_mode(connection) is not None:  # a database of the other mode: refuse
                refuse_other_mode(connection, mode, "the migrating process")
            context.configure(
                connection=connection, target_metadata=target_metadata, compare_type=True
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            connection.exec_driver_sql("SELECT pg_advisory_unlock(7446353)")
            connection.commit()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

"""Which mode (paper or live) a database belongs to, and the check made before trading on it.

The mode is recorded once, by the migration that creates the `deployment` table (the
migrating process's mode). Every process that trades or starts workers compares its own
mode with it and refuses to start on a mismatch, naming both: a paper database reused by a
live process would otherwise make reconciliation close paper positions on real venues.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, inspect, select

from core.errors import ConfigError
from db.models import Deployment

MODES = ("paper", "live")


class DeploymentModeError(ConfigError):
    """The database belongs to another mode than this process (or records none)."""


def recorded_mode(connection: Connection) -> str | None:
    """The mode the database recorded, or None if it has no `deployment` table yet."""
    if not inspect(connection).has_table(Deployment.__tablename__):
        return None
    return connection.execute(select(Deployment.mode)).scalar_one_or_none()


def refuse_other_mode(connection: Connection, mode: str, process: str = "this process") -> None:
    """Raise `DeploymentModeError` naming both modes unless the database is a `mode` one.

    A database with no `deployment` table has not been migrated yet: that is refused too
    (`trading_bot.py migrate` records the mode)."""
    recorded = recorded_mode(connection)
    where = connection.engine.url.render_as_string(hide_password=True)
    if recorded is None:
        raise DeploymentModeError(
            f"database {where} records no mode (not migrated to 0009_deployment_mode): run "
            "`trading_bot.py migrate` first"
        )
    if recorded not in MODES:
        raise DeploymentModeError(f"database {where} records an unknown mode {recorded!r}")
    if recorded != mode:
        raise DeploymentModeError(
            f"database {where} is a {recorded} database and {process} runs {mode}: refusing "
            f"to start. Use a database made for {mode} trading (or run this process in "
            f"{recorded} mode)"
        )


def check_deployment_mode(engine: Engine, mode: str, process: str = "this process") -> None:
    """`refuse_other_mode` on a connection of `engine`."""
    with engine.connect() as connection:
        refuse_other_mode(connection, mode, process)

"""What a worker or beat checks before it starts: the database belongs to its mode.

A worker or beat whose mode (paper or live, `Settings.deployment_mode`) differs from the one
the database recorded refuses to start, naming both, and so does one that cannot read it
(the database unreachable or not migrated): it exits instead of running tasks.
"""

from __future__ import annotations

from typing import Any

from celery.signals import beat_init, worker_init
from sqlalchemy import create_engine, pool
from sqlalchemy.exc import SQLAlchemyError

from core.errors import ConfigError
from core.settings import get_settings, redact_url
from db.deployment import check_deployment_mode


def refuse_to_start_on_another_mode(process: str) -> None:
    """Exit (SystemExit, which Celery's signal dispatch lets through) unless the database
    records this process's mode."""
    settings = get_settings()
    engine = create_engine(settings.database_url, poolclass=pool.NullPool)
    try:
        check_deployment_mode(engine, settings.deployment_mode, f"this {process}")
    except ConfigError as exc:
        reason = str(exc)
    except SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        reason = (
            f"cannot read the mode of database {redact_url(settings.database_url)}: "
            f"{first[0] if first else type(exc).__name__}"
        )
    else:
        return
    finally:
        engine.dispose()
    raise SystemExit(f"perpbot {process} refuses to start: {reason}")


@worker_init.connect
def _check_worker(**kwargs: Any) -> None:
    refuse_to_start_on_another_mode("worker")


@beat_init.connect
def _check_beat(**kwargs: Any) -> None:
    refuse_to_start_on_another_mode("beat")

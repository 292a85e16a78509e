"""Logging set-up for CLI processes (Celery configures its own for workers)."""

from __future__ import annotations

import logging

from core.settings import get_settings


def configure_logging(level: str | None = None) -> None:
    logging.basicConfig(
        level=level or get_settings().log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )

"""Column helpers used by several models."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, text
from sqlalchemy.orm import Mapped, mapped_column


def created_at() -> Mapped[datetime]:
    return mapped_column(server_default=func.now(), nullable=False)


def updated_at() -> Mapped[datetime]:
    return mapped_column(server_default=func.now(), onupdate=func.now(), nullable=False)


def clock_time() -> Mapped[datetime]:
    """A time the writer takes from its injected clock. No server default: a row written
    without one fails instead of mixing the database's wall time into simulated runs."""
    return mapped_column(nullable=False)


def money_zero() -> Mapped[Decimal]:
    return mapped_column(server_default=text("0"), default=Decimal(0), nullable=False)

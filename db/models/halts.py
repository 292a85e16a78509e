"""`halts`: circuit-breaker trips (and manual halts) that stop new exposure until an operator
lifts them.

A row is active while `lifted_at` is null. At most one active halt per scope (a strategy's
name, or `*` for every strategy) is enforced by a partial unique index, so two workers
tripping at once keep one row, the first. A lifted halt stays as history.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base

GLOBAL_SCOPE = "*"


class Halt(Base):
    __tablename__ = "halts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    scope: Mapped[str] = mapped_column(String(50))
    breaker: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    tripped_at: Mapped[datetime]  # from the deployment's clock
    lifted_at: Mapped[datetime | None]
    lifted_by: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (
        Index(
            "uq_halts_active_scope",
            "scope",
            unique=True,
            postgresql_where=text("lifted_at IS NULL"),
        ),
        Index("ix_halts_tripped_at", "tripped_at"),
    )

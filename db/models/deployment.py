"""`deployment`: one row saying whether this database belongs to paper or live trading.

Written by the migration that creates it (the migrating process's mode) and never changed by
the application: a process whose mode differs refuses to start on the database
(`db.deployment.check_deployment_mode`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, SmallInteger, String, func
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class Deployment(Base):
    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    mode: Mapped[str] = mapped_column(String(16))
    # Bookkeeping (when the migration ran), not a domain time: the server's clock.
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

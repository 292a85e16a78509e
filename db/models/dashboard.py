"""The dashboard's own tables: its users (password hashes, roles) and their sessions.

Times here are wall-clock UTC written by the dashboard (a session lasts real hours even when
the trading clock is simulated), never a server default, like every other domain time.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.enums import sql_in
from db.base import Base


class DashboardRole(StrEnum):
    OPERATOR = "operator"  # sees everything, may act (pause, resume, close, rebalance)
    VIEWER = "viewer"  # sees everything, every action is refused


class DashboardUser(Base):
    __tablename__ = "dashboard_users"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    role: Mapped[str] = mapped_column(String(10))
    # An argon2id hash in its PHC string form: algorithm, parameters, salt and hash.
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]

    __table_args__ = (CheckConstraint(f"role IN ({sql_in(DashboardRole)})", name="role"),)


class DashboardSession(Base):
    """A logged-in browser. The cookie holds a random token; only its SHA-256 is stored, so a
    read of this table cannot be replayed as a login."""

    __tablename__ = "dashboard_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(ForeignKey("dashboard_users.name", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    __table_args__ = (Index("ix_dashboard_sessions_expires_at", "expires_at"),)

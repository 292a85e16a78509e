"""`dashboard_users` and `dashboard_sessions`: who may log in, and who is logged in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import DashboardSession, DashboardUser


class DashboardUserRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, name: str) -> DashboardUser | None:
        return self._session.get(DashboardUser, name)

    def all(self) -> Sequence[DashboardUser]:
        return self._session.scalars(select(DashboardUser).order_by(DashboardUser.name)).all()

    def count(self) -> int:
        return int(self._session.scalar(select(func.count()).select_from(DashboardUser)) or 0)

    def put(self, name: str, role: str, password_hash: str, at: datetime) -> None:
        """Create the user, or give an existing one this role and password (its sessions end:
        a new password must log every browser out)."""
        self._session.execute(
            insert(DashboardUser)
            .values(name=name, role=role, password_hash=password_hash, created_at=at)
            .on_conflict_do_update(
                index_elements=["name"], set_={"role": role, "password_hash": password_hash}
            )
        )
        self._session.execute(delete(DashboardSession).where(DashboardSession.user_name == name))

    def set_hash(self, name: str, password_hash: str) -> None:
        """A rehash of the same password with newer parameters (sessions stay)."""
        user = self._session.get(DashboardUser, name)
        if user is not None:
            user.password_hash = password_hash

    def remove(self, name: str) -> bool:
        found = self._session.execute(delete(DashboardUser).where(DashboardUser.name == name))
        # A DML statement's result is a CursorResult; Session.execute types it as Result.
        return bool(cast("CursorResult[Any]", found).rowcount)


class DashboardSessionRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self, token_hash: str, user_name: str, csrf_token: str, at: datetime, expires: datetime
    ) -> None:
        self._session.add(
            DashboardSession(
                token_hash=token_hash,
                user_name=user_name,
                csrf_token=csrf_token,
                created_at=at,
                expires_at=expires,
            )
        )

    def live(self, token_hash: str, now: datetime) -> tuple[DashboardSession, DashboardUser] | None:
        """The session and its user, if the session exists and has not expired."""
        row = self._session.execute(
            select(DashboardSession, DashboardUser)
            .join(DashboardUser, DashboardUser.name == DashboardSession.user_name)
            .where(DashboardSession.token_hash == token_hash, DashboardSession.expires_at > now)
        ).first()
        return None if row is None else (row[0], row[1])

    def end(self, token_hash: str) -> None:
        self._session.execute(
            delete(DashboardSession).where(DashboardSession.token_hash == token_hash)
        )

    def purge_expired(self, now: datetime) -> None:
        self._session.execute(delete(DashboardSession).where(DashboardSession.expires_at <= now))

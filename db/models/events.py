"""`events`: append-only audit log of every state change (a trigger refuses edits).

`occurred_at` is the writer's clock time, never the server's: simulated runs stay consistent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, BigInteger, Identity, Index, String, event, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.models._columns import clock_time


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    occurred_at: Mapped[datetime] = clock_time()
    strategy_name: Mapped[str | None] = mapped_column(String(50))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))

    __table_args__ = (
        Index("ix_events_entity", "entity_type", "entity_id"),
        Index("ix_events_strategy_occurred", "strategy_name", "occurred_at"),
        # The dashboard reads by kind (settlements, monitor updates, refusals).
        Index("ix_events_kind_id", "kind", "id"),
        # The PnL curve's unrealised part: one index-only read of the monitor updates.
        Index(
            "ix_events_unrealised_pnl",
            "entity_id",
            "occurred_at",
            "id",
            postgresql_where=text(
                "(kind = 'position.updated' AND payload -> 'changes' ? 'unrealized_pnl_usd')"
                " OR kind = 'position.closed'"
            ),
        ),
    )


APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'events is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION events_append_only()
"""

# metadata.create_all (used by nothing in production, but by ad-hoc scripts) gets it too.
event.listen(Event.__table__, "after_create", DDL(APPEND_ONLY_FUNCTION))
event.listen(Event.__table__, "after_create", DDL(APPEND_ONLY_TRIGGER))

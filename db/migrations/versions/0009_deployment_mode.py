"""the database records whether it is paper or live

Revision ID: 0009_deployment_mode
Revises: 0008_venue_client_ids

One row in `deployment`: the mode of the process that ran this migration (paper unless it
runs live, confirmed). A process in the other mode refuses to start on the database, so a
paper database reused live cannot make reconciliation trade paper positions on real venues.
The migrating process's mode comes from `db.migrate.upgrade(mode=...)`, else its settings
(`db/migrations/env.py`).
Create Date: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0009_deployment_mode"
down_revision: str | None = "0008_venue_client_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    deployment = op.create_table(
        "deployment",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_deployment_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment")),
    )
    # env.py sets it: the caller's `deployment_mode`, else the migrating process's settings.
    mode = context.config.attributes["deployment_mode"]
    op.bulk_insert(deployment, [{"id": 1, "mode": mode}])


def downgrade() -> None:
    op.drop_table("deployment")

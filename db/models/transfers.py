"""`fund_transfers`: a persisted state machine moving funds between venues.

The statuses and their transitions (`strategies/components/transfer_states.py`) are enforced
by the transfer store and `FundTransferManager`; the CHECK constraints here
keep the invariants an operator relies on even against a bug: a completed transfer's money
is at the destination, a failed one's location is never unknown.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core.enums import IN_FLIGHT_MOVEMENT_STATES, FundsLocation, TransferStatus, sql_in
from db.base import Base
from db.models._columns import clock_time, money_zero


class FundTransfer(Base):
    __tablename__ = "fund_transfers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    strategy_name: Mapped[str | None] = mapped_column(String(50))
    from_dex: Mapped[str] = mapped_column(String(20))
    to_dex: Mapped[str] = mapped_column(String(20))
    from_account: Mapped[str] = mapped_column(String(40), default="main", server_default="main")
    to_account: Mapped[str] = mapped_column(String(40), default="main", server_default="main")
    asset: Mapped[str] = mapped_column(String(16), default="USDC", server_default="USDC")
    amount_usd: Mapped[Decimal]
    fee_usd: Mapped[Decimal] = money_zero()
    withdrawal_fee_usd: Mapped[Decimal] = money_zero()
    bridge_fee_usd: Mapped[Decimal] = money_zero()
    received_usd: Mapped[Decimal | None]
    status: Mapped[str] = mapped_column(String(20), default=TransferStatus.PENDING.value)
    funds_location: Mapped[str] = mapped_column(
        String(24), default=FundsLocation.SOURCE.value, server_default=FundsLocation.SOURCE.value
    )
    # The chain, when the money is in one of our wallets or in flight on a chain.
    funds_chain: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    from_chain: Mapped[str | None] = mapped_column(String(32))
    to_chain: Mapped[str | None] = mapped_column(String(32))
    bridge_protocol: Mapped[str | None] = mapped_column(String(32))
    destination_address: Mapped[str | None] = mapped_column(String(128))
    withdrawal_ref: Mapped[str | None] = mapped_column(String(128))
    bridge_ref: Mapped[str | None] = mapped_column(String(128))
    deposit_ref: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # Sends of the current step's key whose outcome is not known: > 0 means the key must be
    # looked up before anything is sent again.
    unconfirmed_sends: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # What the venue / bridge / chain last reported for the current key (pending, confirmed).
    external_state: Mapped[str | None] = mapped_column(String(16))
    # The status a FAILED or NEEDS_RECONCILE transfer stopped in.
    paused_status: Mapped[str | None] = mapped_column(String(20))
    # One in-flight transfer per dedupe key (partial unique index below).
    dedupe_key: Mapped[str | None] = mapped_column(String(128))
    operator_note: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_check_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    # From the transfer manager's clock (no server default), like every time in the row.
    created_at: Mapped[datetime] = clock_time()
    updated_at: Mapped[datetime] = clock_time()
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_in(TransferStatus)})", name="status"),
        CheckConstraint(f"funds_location IN ({sql_in(FundsLocation)})", name="funds_location"),
        CheckConstraint("amount_usd > 0", name="amount_positive"),
        CheckConstraint("fee_usd >= 0", name="fee_non_negative"),
        CheckConstraint("from_dex <> to_dex", name="distinct_venues"),
        CheckConstraint(
            f"paused_status IS NULL OR paused_status IN ({sql_in(TransferStatus)})",
            name="paused_status",
        ),
        CheckConstraint(
            f"external_state IS NULL OR external_state IN ({sql_in(IN_FLIGHT_MOVEMENT_STATES)})",
            name="external_state",
        ),
        CheckConstraint("unconfirmed_sends >= 0", name="unconfirmed_sends_non_negative"),
        CheckConstraint(
            "status <> 'completed' OR funds_location = 'destination'",
            name="completed_at_destination",
        ),
        CheckConstraint("status <> 'failed' OR funds_location <> 'unknown'", name="failed_located"),
        Index("ix_fund_transfers_status_next_check", "status", "next_check_at"),
        Index(
            "uq_fund_transfers_dedupe_key_in_flight",
            "dedupe_key",
            unique=True,
            postgresql_where=text("status NOT IN ('completed', 'failed', 'cancelled')"),
        ),
    )

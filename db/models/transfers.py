"""`fund_transfers`: a persisted state machine moving funds between venues."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core.enums import FundsLocation, TransferStatus, sql_in
from db.base import Base
from db.models._columns import created_at, money_zero, updated_at


class FundTransfer(Base):
    __tablename__ = "fund_transfers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    strategy_name: Mapped[str | None] = mapped_column(String(50))
    from_dex: Mapped[str] = mapped_column(String(20))
    to_dex: Mapped[str] = mapped_column(String(20))
    asset: Mapped[str] = mapped_column(String(16), default="USDC", server_default="USDC")
    amount_usd: Mapped[Decimal]
    fee_usd: Mapped[Decimal] = money_zero()
    received_usd: Mapped[Decimal | None]
    status: Mapped[str] = mapped_column(String(20), default=TransferStatus.PENDING.value)
    funds_location: Mapped[str] = mapped_column(
        String(24), default=FundsLocation.SOURCE.value, server_default=FundsLocation.SOURCE.value
    )
    reason: Mapped[str | None] = mapped_column(Text)
    from_chain: Mapped[str | None] = mapped_column(String(32))
    to_chain: Mapped[str | None] = mapped_column(String(32))
    bridge_protocol: Mapped[str | None] = mapped_column(String(32))
    destination_address: Mapped[str | None] = mapped_column(String(128))
    withdrawal_ref: Mapped[str | None] = mapped_column(String(128))
    bridge_ref: Mapped[str | None] = mapped_column(String(128))
    deposit_ref: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    next_check_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_in(TransferStatus)})", name="status"),
        CheckConstraint(f"funds_location IN ({sql_in(FundsLocation)})", name="funds_location"),
        CheckConstraint("amount_usd > 0", name="amount_positive"),
        CheckConstraint("fee_usd >= 0", name="fee_non_negative"),
        CheckConstraint("from_dex <> to_dex", name="distinct_venues"),
        Index("ix_fund_transfers_status_next_check", "status", "next_check_at"),
    )

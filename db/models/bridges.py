"""The paper network's tables (prefix `paper_`): wallets on chains, transfers between them
(deposits to venues) and bridge transfers between chains, plus injected-fault counters.

Like the paper venue, every balance change is a ledger row with its reason and reference,
so `paper_wallets.balance == sum(paper_wallet_ledger.amount)` per wallet is checkable, and
the unique references make a double booking of one cause impossible. Every time in these
tables comes from the injected clock (no server defaults), so simulated runs stay consistent.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Identity,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.enums import PARTY_MOVEMENT_STATES, sql_in
from db.base import Base
from db.models._columns import clock_time, money_zero


class WalletEntryKind(StrEnum):
    WITHDRAWAL_IN = "withdrawal_in"  # a venue withdrawal arrived
    BRIDGE_OUT = "bridge_out"
    BRIDGE_IN = "bridge_in"
    BRIDGE_REFUND = "bridge_refund"  # a failed bridge transfer gave the money back
    CHAIN_OUT = "chain_out"  # sent to another address on the chain (a venue deposit)


class PaperBridgeProtocolState(Base):
    """Whether a simulated bridge protocol is up (absent row: up)."""

    __tablename__ = "paper_bridge_protocols"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    down: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = clock_time()


class PaperWallet(Base):
    """One of our wallets: an address on a chain holding one asset."""

    __tablename__ = "paper_wallets"

    chain: Mapped[str] = mapped_column(String(32), primary_key=True)
    address: Mapped[str] = mapped_column(String(128), primary_key=True)
    asset: Mapped[str] = mapped_column(String(16))
    balance: Mapped[Decimal] = money_zero()
    created_at: Mapped[datetime] = clock_time()

    __table_args__ = (CheckConstraint("balance >= 0", name="balance_non_negative"),)


class PaperWalletEntry(Base):
    __tablename__ = "paper_wallet_ledger"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    chain: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal]  # signed: credited (+) or debited (-)
    reference: Mapped[str] = mapped_column(String(160))
    occurred_at: Mapped[datetime]  # when the cause happened (a withdrawal's payout)
    created_at: Mapped[datetime] = clock_time()  # when it was booked

    __table_args__ = (
        UniqueConstraint("chain", "address", "kind", "reference"),
        CheckConstraint(f"kind IN ({sql_in(WalletEntryKind)})", name="kind"),
    )


class PaperChainTransfer(Base):
    """A transfer from one of our wallets to another address on the same chain."""

    __tablename__ = "paper_chain_transfers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    chain: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(128))
    from_address: Mapped[str] = mapped_column(String(128))
    to_address: Mapped[str] = mapped_column(String(128))
    # The paper venue account that owns `to_address` (credited when the transfer confirms).
    to_venue: Mapped[str] = mapped_column(String(20))
    to_account: Mapped[str] = mapped_column(String(40))
    asset: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal]
    state: Mapped[str] = mapped_column(String(10))
    sent_at: Mapped[datetime]
    complete_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("chain", "key"),
        CheckConstraint(f"state IN ({sql_in(PARTY_MOVEMENT_STATES)})", name="state"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_paper_chain_transfers_state", "state", "complete_at"),
    )


class PaperBridgeTransfer(Base):
    """A transfer between our wallets on two chains through one bridge protocol."""

    __tablename__ = "paper_bridge_transfers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    protocol: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(128))
    asset: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal]  # debited from the source wallet
    fee: Mapped[Decimal]  # kept by the bridge on completion; refunded on failure
    from_chain: Mapped[str] = mapped_column(String(32))
    from_address: Mapped[str] = mapped_column(String(128))
    to_chain: Mapped[str] = mapped_column(String(32))
    to_address: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(10))
    # Decided when the transfer is accepted (deterministic fault model), applied at completion.
    fail_reason: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime]
    complete_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("protocol", "key"),
        CheckConstraint(f"state IN ({sql_in(PARTY_MOVEMENT_STATES)})", name="state"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("fee >= 0 AND fee < amount", name="fee_below_amount"),
        Index("ix_paper_bridge_transfers_state", "state", "complete_at"),
    )


class PaperFaultHit(Base):
    """How often an injected transient fault fired for (operation, key)."""

    __tablename__ = "paper_fault_hits"

    operation: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    hits: Mapped[int] = mapped_column(default=0, server_default=text("0"))

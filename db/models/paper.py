"""The paper venue's tables (prefix `paper_`): one simulated venue shared by every process.

Accounts hold USDC collateral; every change of a balance is a ledger row with its reason, so
`collateral == sum(ledger.amount)` per account is checkable at any time. Times in these
tables are simulated (from the injected clock), except `created_at`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.enums import (
    PARTY_MOVEMENT_STATES,
    LedgerKind,
    Liquidity,
    OrderSide,
    OrderStatus,
    OrderType,
    sql_in,
)
from db.base import Base
from db.models._columns import created_at, money_zero


class TransferDirection(StrEnum):
    WITHDRAWAL = "withdrawal"
    DEPOSIT = "deposit"


class PaperVenue(Base):
    """One row per venue: the lock that serializes the venue, and how far it has simulated."""

    __tablename__ = "paper_venues"

    venue: Mapped[str] = mapped_column(String(20), primary_key=True)
    processed_through: Mapped[datetime]
    created_at: Mapped[datetime] = created_at()


class PaperAccount(Base):
    __tablename__ = "paper_accounts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    venue: Mapped[str] = mapped_column(String(20))
    account: Mapped[str] = mapped_column(String(40))
    # USDC cash: deposits, withdrawals, fees, funding and realized PnL. Isolated position
    # margin is part of it (reserved, not moved out).
    collateral: Mapped[Decimal] = money_zero()
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (UniqueConstraint("venue", "account"),)


class PaperOrder(Base):
    __tablename__ = "paper_orders"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    venue: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int] = mapped_column(ForeignKey("paper_accounts.id", ondelete="RESTRICT"))
    client_order_id: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(20))
    side: Mapped[str] = mapped_column(String(4))
    order_type: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[Decimal]
    price: Mapped[Decimal | None]
    reduce_only: Mapped[bool] = mapped_column(server_default=text("false"))
    post_only: Mapped[bool] = mapped_column(server_default=text("false"))
    status: Mapped[str] = mapped_column(String(20))
    filled_qty: Mapped[Decimal] = money_zero()
    avg_fill_price: Mapped[Decimal | None]
    fee: Mapped[Decimal] = money_zero()
    # The account's leverage and maker fee tier when the order was placed: a resting order
    # is filled later by whichever process advances the venue, with these terms.
    leverage: Mapped[Decimal]
    maker_fee_rate: Mapped[Decimal]
    # Margin held back while a limit order rests (released when it fills or is cancelled).
    reserved_margin: Mapped[Decimal] = money_zero()
    detail: Mapped[str | None] = mapped_column(Text)
    placed_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        # Same client id on the same venue is the same order, however often it is sent.
        UniqueConstraint("venue", "client_order_id"),
        CheckConstraint(f"side IN ({sql_in(OrderSide)})", name="side"),
        CheckConstraint(f"order_type IN ({sql_in(OrderType)})", name="order_type"),
        CheckConstraint(f"status IN ({sql_in(OrderStatus)})", name="status"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("filled_qty >= 0 AND filled_qty <= quantity", name="filled_within_qty"),
        CheckConstraint("order_type <> 'limit' OR price IS NOT NULL", name="limit_has_price"),
        Index("ix_paper_orders_venue_status", "venue", "status"),
        Index("ix_paper_orders_account_status", "account_id", "status"),
    )


class PaperPosition(Base):
    """Net position per (account, symbol), isolated margin, like one perp market."""

    __tablename__ = "paper_positions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    venue: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int] = mapped_column(ForeignKey("paper_accounts.id", ondelete="RESTRICT"))
    symbol: Mapped[str] = mapped_column(String(20))
    qty: Mapped[Decimal] = money_zero()  # signed: > 0 long, < 0 short
    entry_price: Mapped[Decimal] = money_zero()
    margin: Mapped[Decimal] = money_zero()
    realized_pnl: Mapped[Decimal] = money_zero()  # lifetime, excluding fees and funding
    funding_pnl: Mapped[Decimal] = money_zero()  # lifetime funding received (+) / paid (-)
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("account_id", "symbol"),
        CheckConstraint("margin >= 0", name="margin_non_negative"),
        Index("ix_paper_positions_venue_symbol", "venue", "symbol"),
    )


class PaperFill(Base):
    __tablename__ = "paper_fills"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    venue: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int] = mapped_column(ForeignKey("paper_accounts.id", ondelete="RESTRICT"))
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("paper_orders.id", ondelete="RESTRICT")
    )
    symbol: Mapped[str] = mapped_column(String(20))
    side: Mapped[str] = mapped_column(String(4))
    qty: Mapped[Decimal]
    price: Mapped[Decimal]
    fee: Mapped[Decimal]
    liquidity: Mapped[str] = mapped_column(String(12))
    filled_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(f"liquidity IN ({sql_in(Liquidity)})", name="liquidity"),
        CheckConstraint("qty > 0", name="qty_positive"),
        Index("ix_paper_fills_account_symbol", "account_id", "symbol"),
    )


class PaperLedgerEntry(Base):
    """One change of one account's collateral, with its reason."""

    __tablename__ = "paper_ledger"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    venue: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int] = mapped_column(ForeignKey("paper_accounts.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal]  # signed: credited (+) or debited (-)
    symbol: Mapped[str | None] = mapped_column(String(20))
    # What caused it (order client id, "BTC@<funding time>", withdrawal key...): the unique
    # constraint makes a double booking of the same cause impossible.
    reference: Mapped[str] = mapped_column(String(160))
    occurred_at: Mapped[datetime]
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (
        UniqueConstraint("account_id", "kind", "reference"),
        CheckConstraint(f"kind IN ({sql_in(LedgerKind)})", name="kind"),
    )


class PaperFundingSettlement(Base):
    """A funding time that has been settled on a venue market: at most once, ever."""

    __tablename__ = "paper_funding_settlements"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    venue: Mapped[str] = mapped_column(String(20))
    symbol: Mapped[str] = mapped_column(String(20))
    funding_time: Mapped[datetime]
    rate: Mapped[Decimal]  # per interval
    interval_hours: Mapped[Decimal]
    mark_price: Mapped[Decimal]
    accounts_paid: Mapped[int] = mapped_column(server_default=text("0"))
    net_amount: Mapped[Decimal] = money_zero()  # sum of payments to accounts
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (UniqueConstraint("venue", "symbol", "funding_time"),)


class PaperTransfer(Base):
    """A withdrawal from, or a deposit to, a paper account, keyed by its reference."""

    __tablename__ = "paper_transfers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    venue: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int] = mapped_column(ForeignKey("paper_accounts.id", ondelete="RESTRICT"))
    direction: Mapped[str] = mapped_column(String(10))
    reference: Mapped[str] = mapped_column(String(128))  # idempotency key / deposit tx ref
    asset: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal]
    fee: Mapped[Decimal] = money_zero()
    chain: Mapped[str] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(10))
    tx_hash: Mapped[str | None] = mapped_column(String(80))
    # Set when the request is accepted if the fault model decided it will fail.
    fail_reason: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime]
    complete_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("venue", "direction", "reference"),
        CheckConstraint(f"direction IN ({sql_in(TransferDirection)})", name="direction"),
        CheckConstraint(f"state IN ({sql_in(PARTY_MOVEMENT_STATES)})", name="state"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_paper_transfers_venue_state", "venue", "state"),
    )


class PaperMarketTick(Base):
    """Scenario market data: the mark price and funding rate of a venue market at a time."""

    __tablename__ = "paper_market_ticks"

    venue: Mapped[str] = mapped_column(String(20), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(20), primary_key=True)
    ts: Mapped[datetime] = mapped_column(primary_key=True)
    mark_price: Mapped[Decimal]
    funding_rate: Mapped[Decimal]  # per interval, positive: longs pay shorts
    interval_hours: Mapped[Decimal]

    __table_args__ = (
        CheckConstraint("mark_price > 0", name="mark_price_positive"),
        CheckConstraint("interval_hours > 0", name="interval_positive"),
    )

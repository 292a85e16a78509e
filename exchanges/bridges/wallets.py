"""Our wallets on the paper chains: lock, credit arrived venue withdrawals, book changes.

Every change of a balance goes through `post` (a ledger row with a unique reference plus the
balance), and a wallet is always locked (`SELECT ... FOR UPDATE`) before it changes.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, exists, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.enums import MovementState
from core.errors import PerpbotError
from db.models.bridges import PaperWallet, PaperWalletEntry, WalletEntryKind
from db.models.paper import PaperTransfer, TransferDirection


def lock_wallet(
    session: Session, chain: str, address: str, asset: str, now: datetime
) -> PaperWallet:
    """Lock the wallet row (creating an empty wallet, dated `now`, on first use)."""
    query = (
        select(PaperWallet)
        .where(PaperWallet.chain == chain, PaperWallet.address == address)
        .with_for_update()
    )
    row = session.scalars(query).one_or_none()
    if row is None:
        session.execute(
            insert(PaperWallet)
            .values(chain=chain, address=address, asset=asset, created_at=now)
            .on_conflict_do_nothing(index_elements=["chain", "address"])
        )
        row = session.scalars(query).one()
    return row


def post(
    session: Session,
    wallet: PaperWallet,
    kind: WalletEntryKind,
    amount: Decimal,
    reference: str,
    occurred_at: datetime,
    booked_at: datetime,
) -> None:
    """Book one change of a locked wallet's balance with its reason: `occurred_at` is when
    its cause happened (a withdrawal's payout), `booked_at` the clock's now."""
    session.add(
        PaperWalletEntry(
            chain=wallet.chain,
            address=wallet.address,
            kind=kind.value,
            amount=amount,
            reference=reference,
            occurred_at=occurred_at,
            created_at=booked_at,
        )
    )
    wallet.balance = wallet.balance + amount
    session.flush()


def withdrawal_reference(venue: str, key: str) -> str:
    return f"{venue}:{key}"


def unabsorbed_withdrawals() -> ColumnElement[bool]:
    """Completed venue withdrawals not yet credited to the wallet they were sent to."""
    reference = PaperTransfer.venue + literal(":") + PaperTransfer.reference
    credited = exists().where(
        and_(
            PaperWalletEntry.chain == PaperTransfer.chain,
            PaperWalletEntry.address == PaperTransfer.address,
            PaperWalletEntry.kind == WalletEntryKind.WITHDRAWAL_IN.value,
            PaperWalletEntry.reference == reference,
        )
    )
    return and_(
        PaperTransfer.direction == TransferDirection.WITHDRAWAL.value,
        PaperTransfer.state == MovementState.COMPLETED.value,
        ~credited,
    )


def absorb_withdrawals(session: Session, wallet: PaperWallet, now: datetime) -> Decimal:
    """Credit a locked wallet with the venue withdrawals that have arrived at it.

    A withdrawal arrives when its venue completes it (the paper chain sees the venue's tx);
    the unique ledger reference makes crediting it twice impossible.
    """
    rows = session.execute(
        select(
            PaperTransfer.venue,
            PaperTransfer.reference,
            PaperTransfer.amount,
            PaperTransfer.fee,
            PaperTransfer.completed_at,
        )
        .where(
            PaperTransfer.chain == wallet.chain,
            PaperTransfer.address == wallet.address,
            unabsorbed_withdrawals(),
        )
        .order_by(PaperTransfer.completed_at)
    ).all()
    entries = []
    for venue, key, amount, fee, completed_at in rows:
        if completed_at is None:
            raise PerpbotError(
                f"paper withdrawal {withdrawal_reference(venue, key)} is completed "
                "without a completion time: the paper_transfers row is corrupt"
            )
        entries.append(
            PaperWalletEntry(
                chain=wallet.chain,
                address=wallet.address,
                kind=WalletEntryKind.WITHDRAWAL_IN.value,
                amount=amount - fee,
                reference=withdrawal_reference(venue, key),
                occurred_at=completed_at,
                created_at=now,
            )
        )
    if not entries:
        return Decimal(0)
    # All credits at once: one multi-row insert and one balance update, not two statements
    # per withdrawal (a wallet that collects many withdrawals absorbs them in one send).
    total = sum((entry.amount for entry in entries), Decimal(0))
    session.add_all(entries)
    wallet.balance = wallet.balance + total
    session.flush()
    return total


def ledger_sum(session: Session, chain: str, address: str) -> Decimal:
    """Sum of a wallet's ledger rows (equals its balance, always)."""
    return Decimal(
        session.execute(
            select(func.coalesce(func.sum(PaperWalletEntry.amount), 0)).where(
                PaperWalletEntry.chain == chain, PaperWalletEntry.address == address
            )
        ).scalar_one()
    )

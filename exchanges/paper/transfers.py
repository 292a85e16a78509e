"""Withdrawals from and deposits to paper accounts, idempotent by their reference.

A withdrawal debits the account when accepted (amount minus fee as `withdrawal`, the fee as
`withdrawal_fee`) and completes `delay` later on the venue's clock; a failed one gives the
whole amount back (`withdrawal_refund`). A deposit is credited when the (paper) chain or
bridge reports it, once per reference.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import LedgerKind, MovementState
from db.models.paper import PaperAccount, PaperTransfer, TransferDirection
from exchanges.base import MovementReceipt, OrderRejectedError
from exchanges.paper.book import available_margin, post
from exchanges.simulation.margin import money

COLLATERAL_ASSET = "USDC"


def deposit_address(venue: str, account: str, chain: str) -> str:
    """A fixed address per (venue, account, chain), shaped like an EVM address."""
    digest = hashlib.sha256(f"paper|{venue}|{account}|{chain}".encode()).hexdigest()
    return "0x" + digest[:40]


def find_transfer(
    session: Session, venue: str, direction: TransferDirection, reference: str
) -> PaperTransfer | None:
    return session.scalars(
        select(PaperTransfer).where(
            PaperTransfer.venue == venue,
            PaperTransfer.direction == direction.value,
            PaperTransfer.reference == reference,
        )
    ).one_or_none()


def receipt(transfer: PaperTransfer) -> MovementReceipt:
    return MovementReceipt(
        party=transfer.venue,
        reference=transfer.reference,
        asset=transfer.asset,
        amount=transfer.amount,
        fee=transfer.fee,
        state=MovementState(transfer.state),
        chain=transfer.chain,
        to_address=transfer.address,
        tx_hash=transfer.tx_hash,
        detail=transfer.fail_reason if transfer.state == MovementState.FAILED else None,
    )


def _check_asset(venue: str, asset: str) -> None:
    if asset != COLLATERAL_ASSET:
        raise OrderRejectedError(
            venue, f"paper venues hold {COLLATERAL_ASSET} collateral only, not {asset!r}"
        )


def _check_same(transfer: PaperTransfer, account: PaperAccount, amount: Decimal, what: str) -> None:
    if transfer.account_id != account.id or transfer.amount != amount:
        raise OrderRejectedError(
            account.venue,
            f"{what} {transfer.reference!r} already exists with other terms "
            f"({transfer.amount} {transfer.asset}); a reference names one transfer only",
        )


def request_withdrawal(
    session: Session,
    account: PaperAccount,
    *,
    asset: str,
    amount: Decimal,
    address: str,
    chain: str,
    key: str,
    fee: Decimal,
    delay: timedelta,
    fail_reason: str | None,
    now: datetime,
) -> tuple[PaperTransfer, bool]:
    """Accept a withdrawal, or return the one already accepted for `key`. (transfer, new?)"""
    venue = account.venue
    existing = find_transfer(session, venue, TransferDirection.WITHDRAWAL, key)
    if existing is not None:
        _check_same(existing, account, amount, "withdrawal")
        return existing, False
    _check_asset(venue, asset)
    if amount <= fee:
        raise OrderRejectedError(
            venue, f"withdrawal {key}: amount {amount} does not cover the fee {fee} {asset}"
        )
    available = available_margin(session, account)
    if amount > available:
        raise OrderRejectedError(
            venue,
            f"withdrawal {key}: {amount} {asset} exceeds the available balance "
            f"{money(available)} of account {account.account!r}",
        )
    transfer = PaperTransfer(
        venue=venue,
        account_id=account.id,
        direction=TransferDirection.WITHDRAWAL.value,
        reference=key,
        asset=asset,
        amount=amount,
        fee=fee,
        chain=chain,
        address=address,
        state=MovementState.PENDING.value,
        fail_reason=fail_reason,
        requested_at=now,
        complete_at=now + delay,
    )
    session.add(transfer)
    post(session, account, LedgerKind.WITHDRAWAL, -(amount - fee), key, now)
    post(session, account, LedgerKind.WITHDRAWAL_FEE, -fee, key, now)
    if delay <= timedelta(0):
        finish_withdrawal(session, account, transfer)
    session.flush()
    return transfer, True


def finish_withdrawal(session: Session, account: PaperAccount, transfer: PaperTransfer) -> None:
    """Complete a pending withdrawal at its completion time, or fail it and refund."""
    if transfer.fail_reason:
        transfer.state = MovementState.FAILED.value
        post(
            session,
            account,
            LedgerKind.WITHDRAWAL_REFUND,
            transfer.amount,
            transfer.reference,
            transfer.complete_at,
        )
    else:
        transfer.state = MovementState.COMPLETED.value
        seed = f"{transfer.venue}|{transfer.reference}|{transfer.amount}"
        transfer.tx_hash = "0x" + hashlib.sha256(seed.encode()).hexdigest()
    transfer.completed_at = transfer.complete_at


def credit_deposit(
    session: Session,
    account: PaperAccount,
    *,
    reference: str,
    asset: str,
    amount: Decimal,
    chain: str,
    address: str,
    now: datetime,
) -> PaperTransfer:
    """Credit a deposit once per reference; the same reference again returns the first."""
    venue = account.venue
    existing = find_transfer(session, venue, TransferDirection.DEPOSIT, reference)
    if existing is not None:
        _check_same(existing, account, amount, "deposit")
        return existing
    _check_asset(venue, asset)
    if amount <= 0:
        raise OrderRejectedError(venue, f"deposit {reference}: amount must be positive")
    transfer = PaperTransfer(
        venue=venue,
        account_id=account.id,
        direction=TransferDirection.DEPOSIT.value,
        reference=reference,
        asset=asset,
        amount=amount,
        fee=Decimal(0),
        chain=chain,
        address=address,
        state=MovementState.COMPLETED.value,
        tx_hash=reference,
        requested_at=now,
        complete_at=now,
        completed_at=now,
    )
    session.add(transfer)
    post(session, account, LedgerKind.DEPOSIT, amount, reference, now)
    session.flush()
    return transfer

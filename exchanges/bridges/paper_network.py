"""`PaperNetwork`: our wallets on paper chains sending to venue deposit addresses.

A send debits the wallet and creates a pending on-chain transfer; `deposit_confirm_seconds`
later (on the clock) it confirms and the paper venue account that owns the address is
credited, in the same transaction, by reference (the sender's key). Sends are idempotent per
(chain, key); a send to an address the network cannot deliver to is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock
from core.enums import MovementState
from db.models.bridges import PaperChainTransfer, WalletEntryKind
from exchanges.base import MovementReceipt
from exchanges.bridges.base import ChainRejectedError
from exchanges.bridges.faults import TransientFaults
from exchanges.bridges.transactions import transaction
from exchanges.bridges.wallets import absorb_withdrawals, lock_wallet, post
from exchanges.paper import transfers as venue_transfers
from exchanges.paper.book import lock_account

NETWORK = "paper-chain"


class PaperNetwork:
    """Implements `WalletNetwork` for the paper chains."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        deposit_targets: Mapping[tuple[str, str], tuple[str, str]],
        confirm_delay: timedelta = timedelta(seconds=30),
        faults: TransientFaults | None = None,
    ) -> None:
        """`deposit_targets`: (chain, address) -> (venue, account) of the paper venue
        accounts whose deposit addresses the network delivers to."""
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self._clock = clock
        self._targets = {(c, a.lower()): target for (c, a), target in deposit_targets.items()}
        self._delay = confirm_delay
        self._faults = faults

    def send(
        self, chain: str, key: str, from_address: str, to_address: str, asset: str, amount: Decimal
    ) -> MovementReceipt:
        if self._faults is not None:
            self._faults.check("chain_send", key, NETWORK)
        target = self._targets.get((chain, to_address.lower()))
        if target is None:
            raise ChainRejectedError(
                NETWORK, f"send {key}: nothing on {chain} receives at {to_address}"
            )
        try:
            with transaction(self._sessions, self._clock, NETWORK, "send", True) as (session, now):
                wallet = lock_wallet(session, chain, from_address, asset, now)
                existing = self._find(session, chain, key)
                if existing is not None:
                    return self._same_terms(existing, from_address, to_address, amount)
                absorb_withdrawals(session, wallet, now)
                if amount <= 0 or wallet.balance < amount:
                    raise ChainRejectedError(
                        NETWORK,
                        f"send {key}: wallet {from_address} on {chain} holds {wallet.balance} "
                        f"{asset}, cannot send {amount}",
                    )
                row = PaperChainTransfer(
                    chain=chain,
                    key=key,
                    from_address=from_address,
                    to_address=to_address,
                    to_venue=target[0],
                    to_account=target[1],
                    asset=asset,
                    amount=amount,
                    state=MovementState.PENDING.value,
                    sent_at=now,
                    complete_at=now + self._delay,
                )
                session.add(row)
                post(session, wallet, WalletEntryKind.CHAIN_OUT, -amount, key, now, now)
                self._confirm_if_due(session, row, now)
                return _receipt(row)
        except IntegrityError:  # the same key sent concurrently from another process
            found = self.status(chain, key)
            if found is None:
                raise
            return found

    def status(self, chain: str, key: str) -> MovementReceipt | None:
        with transaction(self._sessions, self._clock, NETWORK, "status", False) as (session, now):
            row = session.scalars(
                select(PaperChainTransfer)
                .where(PaperChainTransfer.chain == chain, PaperChainTransfer.key == key)
                .with_for_update()
            ).one_or_none()
            if row is None:
                return None
            self._confirm_if_due(session, row, now)
            return _receipt(row)

    def _confirm_if_due(self, session: Session, row: PaperChainTransfer, now: datetime) -> None:
        if row.state != MovementState.PENDING.value or row.complete_at > now:
            return
        account = lock_account(session, row.to_venue, row.to_account)
        venue_transfers.credit_deposit(
            session,
            account,
            reference=row.key,
            asset=row.asset,
            amount=row.amount,
            chain=row.chain,
            address=row.to_address,
            now=row.complete_at,
        )
        row.state = MovementState.COMPLETED.value
        row.completed_at = row.complete_at

    def _find(self, session: Session, chain: str, key: str) -> PaperChainTransfer | None:
        return session.scalars(
            select(PaperChainTransfer).where(
                PaperChainTransfer.chain == chain, PaperChainTransfer.key == key
            )
        ).one_or_none()

    def _same_terms(
        self, row: PaperChainTransfer, from_address: str, to_address: str, amount: Decimal
    ) -> MovementReceipt:
        if (row.from_address, row.to_address.lower(), row.amount) != (
            from_address,
            to_address.lower(),
            amount,
        ):
            raise ChainRejectedError(
                NETWORK, f"send {row.key} already exists with other terms; a key names one send"
            )
        return _receipt(row)


def _receipt(row: PaperChainTransfer) -> MovementReceipt:
    return MovementReceipt(
        party=row.chain,
        reference=row.key,
        asset=row.asset,
        amount=row.amount,
        state=MovementState(row.state),
        chain=row.chain,
        from_address=row.from_address,
        to_address=row.to_address,
        eta=row.complete_at if row.state == MovementState.PENDING.value else None,
    )

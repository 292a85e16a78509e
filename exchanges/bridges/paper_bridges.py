"""`PaperBridge`: a simulated bridge protocol whose transfers are PostgreSQL rows.

A send debits the source wallet (the whole amount) and completes `latency_seconds` later on
the clock: the destination wallet is credited amount minus fee, or — if the deterministic
fault model decided the transfer fails — the source wallet is refunded in full. Completion
happens lazily, in whichever process next asks for the transfer's status, under the row lock.
A protocol can be marked down (`set_protocol_down`): sends are then refused as transient.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_UP, Decimal

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock, ensure_utc
from core.enums import MovementState
from db.models.bridges import PaperBridgeProtocolState, PaperBridgeTransfer, WalletEntryKind
from exchanges.base import MovementReceipt
from exchanges.bridges.base import (
    BridgeQuote,
    BridgeRejectedError,
    BridgeRoute,
    BridgeUnavailableError,
)
from exchanges.bridges.config import BridgeProfile, draw
from exchanges.bridges.faults import TransientFaults
from exchanges.bridges.transactions import transaction
from exchanges.bridges.wallets import absorb_withdrawals, lock_wallet, post


class PaperBridge:
    """Implements `BridgeProtocol` with the terms of a `BridgeProfile`."""

    def __init__(
        self,
        profile: BridgeProfile,
        *,
        engine: Engine,
        clock: Clock,
        seed: int = 0,
        faults: TransientFaults | None = None,
    ) -> None:
        self.name = profile.name
        self.profile = profile
        self._engine = engine
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self._clock = clock
        self._seed = seed
        self._faults = faults

    def __repr__(self) -> str:
        return f"PaperBridge({self.name!r})"

    def available(self) -> bool:
        with self._sessions() as session:
            return not _is_down(session, self.name)

    def supports(self, route: BridgeRoute) -> bool:
        chains = self.profile.chains
        return (
            route.from_chain in chains
            and route.to_chain in chains
            and route.from_chain != route.to_chain
            and route.asset in self.profile.assets
        )

    def fee(self, amount: Decimal) -> Decimal:
        quantum = Decimal(1).scaleb(-self.profile.fee_decimals)
        variable = (amount * self.profile.fee_rate).quantize(quantum, rounding=ROUND_UP)
        return self.profile.fee_fixed + variable

    def quote(self, route: BridgeRoute, amount: Decimal) -> BridgeQuote:
        self._check_route(route)
        return BridgeQuote(
            protocol=self.name,
            route=route,
            amount=amount,
            fee=self.fee(amount),
            latency=timedelta(seconds=self.profile.latency_seconds),
        )

    def send(
        self, key: str, route: BridgeRoute, amount: Decimal, from_address: str, to_address: str
    ) -> MovementReceipt:
        if self._faults is not None:
            self._faults.check("bridge_send", key, self.name)
        try:
            with transaction(self._sessions, self._clock, self.name, "send", True) as (s, now):
                wallet = lock_wallet(s, route.from_chain, from_address, route.asset, now)
                existing = self._find(s, key)
                if existing is not None:
                    return self._same_terms(existing, route, amount, from_address, to_address)
                if _is_down(s, self.name):
                    raise BridgeUnavailableError(self.name, f"send {key}: protocol is down")
                self._check_route(route)
                fee = self.fee(amount)
                if fee >= amount:
                    raise BridgeRejectedError(
                        self.name, f"send {key}: amount {amount} does not cover the fee {fee}"
                    )
                absorb_withdrawals(s, wallet, now)
                if wallet.balance < amount:
                    raise BridgeRejectedError(
                        self.name,
                        f"send {key}: wallet {from_address} on {route.from_chain} holds "
                        f"{wallet.balance} {route.asset}, cannot send {amount}",
                    )
                fails = draw(self._seed, self.name, key, "fail") < self.profile.failure_rate
                row = PaperBridgeTransfer(
                    protocol=self.name,
                    key=key,
                    asset=route.asset,
                    amount=amount,
                    fee=fee,
                    from_chain=route.from_chain,
                    from_address=from_address,
                    to_chain=route.to_chain,
                    to_address=to_address,
                    state=MovementState.PENDING.value,
                    fail_reason="bridge transfer failed (simulated fault)" if fails else None,
                    sent_at=now,
                    complete_at=now + timedelta(seconds=self.profile.latency_seconds),
                )
                s.add(row)
                post(s, wallet, WalletEntryKind.BRIDGE_OUT, -amount, key, now, now)
                # Not finished here even with zero latency: that would lock a second wallet
                # while holding the first (two opposite sends could deadlock).
                return _receipt(row)
        except IntegrityError:  # the same key sent concurrently by another process
            found = self.status(key)
            if found is None:
                raise
            return found

    def status(self, key: str) -> MovementReceipt | None:
        with transaction(self._sessions, self._clock, self.name, "status", False) as (s, now):
            row = s.scalars(
                select(PaperBridgeTransfer)
                .where(PaperBridgeTransfer.protocol == self.name, PaperBridgeTransfer.key == key)
                .with_for_update()
            ).one_or_none()
            if row is None:
                return None
            _finish_if_due(s, row, now)
            return _receipt(row)

    def _check_route(self, route: BridgeRoute) -> None:
        if not self.supports(route):
            raise BridgeRejectedError(
                self.name,
                f"does not bridge {route} (chains: {', '.join(self.profile.chains)}; "
                f"assets: {', '.join(self.profile.assets)})",
            )

    def _find(self, session: Session, key: str) -> PaperBridgeTransfer | None:
        return session.scalars(
            select(PaperBridgeTransfer).where(
                PaperBridgeTransfer.protocol == self.name, PaperBridgeTransfer.key == key
            )
        ).one_or_none()

    def _same_terms(
        self,
        row: PaperBridgeTransfer,
        route: BridgeRoute,
        amount: Decimal,
        from_address: str,
        to_address: str,
    ) -> MovementReceipt:
        terms = (row.from_chain, row.to_chain, row.amount, row.from_address, row.to_address)
        asked = (route.from_chain, route.to_chain, amount, from_address, to_address)
        if terms != asked:
            raise BridgeRejectedError(
                self.name, f"send {row.key} already exists with other terms; a key names one send"
            )
        return _receipt(row)


def _finish_if_due(session: Session, row: PaperBridgeTransfer, now: datetime) -> None:
    """Complete (credit the destination) or fail (refund the source) a due transfer."""
    if row.state != MovementState.PENDING.value or row.complete_at > now:
        return
    if row.fail_reason:
        wallet = lock_wallet(session, row.from_chain, row.from_address, row.asset, now)
        post(
            session,
            wallet,
            WalletEntryKind.BRIDGE_REFUND,
            row.amount,
            row.key,
            row.complete_at,
            now,
        )
        row.state = MovementState.FAILED.value
    else:
        wallet = lock_wallet(session, row.to_chain, row.to_address, row.asset, now)
        received = row.amount - row.fee
        post(session, wallet, WalletEntryKind.BRIDGE_IN, received, row.key, row.complete_at, now)
        row.state = MovementState.COMPLETED.value
    row.completed_at = row.complete_at


def _is_down(session: Session, name: str) -> bool:
    return bool(
        session.scalar(
            select(PaperBridgeProtocolState.down).where(PaperBridgeProtocolState.name == name)
        )
    )


def set_protocol_down(
    engine: Engine, clock: Clock, name: str, down: bool, note: str | None = None
) -> None:
    """Mark a paper bridge protocol down (sends refused, routes skipped) or up again."""
    now = ensure_utc(clock.now())
    with engine.begin() as connection:
        connection.execute(
            insert(PaperBridgeProtocolState)
            .values(name=name, down=down, note=note, updated_at=now)
            .on_conflict_do_update(
                index_elements=["name"], set_={"down": down, "note": note, "updated_at": now}
            )
        )


def _receipt(row: PaperBridgeTransfer) -> MovementReceipt:
    return MovementReceipt(
        party=row.protocol,
        reference=row.key,
        asset=row.asset,
        amount=row.amount,
        fee=row.fee,
        state=MovementState(row.state),
        chain=row.from_chain,
        to_chain=row.to_chain,
        from_address=row.from_address,
        to_address=row.to_address,
        eta=row.complete_at if row.state == MovementState.PENDING.value else None,
        detail=row.fail_reason if row.state == MovementState.FAILED.value else None,
    )

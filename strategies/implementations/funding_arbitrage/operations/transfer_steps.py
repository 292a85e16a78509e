"""The three steps of a transfer: withdraw, bridge, deposit.

Each step says how to start an attempt (the intent written before any side effect), how to
look its key up, how to send it, and how to record what the venue / bridge / chain reported.
The driver that runs them in the right transactions is `FundTransferManager`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from core.enums import FundsLocation, MovementState, TransferStatus
from exchanges.base import (
    MalformedResponseError,
    MovementReceipt,
    TransientExchangeError,
    UnknownOutcomeError,
)
from exchanges.bridges.base import BridgeRoute
from strategies.components.transfer_states import key_attempt, step_key, transition
from strategies.components.transfer_types import (
    TransferRecord,
    TransferRefusedError,
    TransferStep,
    TransferVenue,
)
from strategies.implementations.funding_arbitrage.operations.bridge_manager import (
    NoBridgeAvailableError,
)
from strategies.implementations.funding_arbitrage.operations.transfer_requests import check_amount
from strategies.implementations.funding_arbitrage.operations.transfer_step_base import (
    Recorded,
    StepContext,
    StepSpec,
    failed,
    intent,
    waiting,
)

S = TransferStatus
L = FundsLocation
M = MovementState


class WithdrawStep(StepSpec):
    step = TransferStep.WITHDRAW
    entry = (S.PENDING,)
    working = S.WITHDRAWING

    def prepare(self, record: TransferRecord) -> Any:
        # Before the first send, the amount must still pass the policy the workers run with
        # (it may have been lowered since the request); refused: FAILED at the source.
        if record.status is S.PENDING:
            check_amount(record.amount, self.ctx.routing.policy, record.asset)
        return None

    def begin(self, record: TransferRecord, prepared: Any, now: datetime) -> TransferRecord:
        key = step_key(record.id, self.step, record.withdrawal_ref)
        return intent(record, S.WITHDRAWING, now, self.ctx.stuck, withdrawal_ref=key)

    def key(self, record: TransferRecord) -> str | None:
        return record.withdrawal_ref

    def _venue(self, record: TransferRecord) -> TransferVenue:
        return self.ctx.venues.venue(record.from_venue, record.from_account)

    def lookup(self, record: TransferRecord) -> MovementReceipt | None:
        return self._venue(record).get_withdrawal(str(record.withdrawal_ref))

    def send(self, record: TransferRecord) -> MovementReceipt:
        address = self.ctx.routing.wallet(record.from_chain)
        self.ctx.routing.check_allowed(
            record.from_chain, address, f"withdrawal from {record.from_venue}"
        )
        return self._venue(record).withdraw(
            record.asset, record.amount, address, record.from_chain, str(record.withdrawal_ref)
        )

    def resend_allowed(self, record: TransferRecord) -> bool:
        return self.ctx.routing.venue(record.from_venue).idempotent_withdrawals

    def resting(self, record: TransferRecord) -> tuple[FundsLocation, str | None]:
        return L.SOURCE, None

    def record(self, record: TransferRecord, seen: MovementReceipt, now: datetime) -> Recorded:
        if (problem := self.check_amount(record, seen, record.amount)) is not None:
            return Recorded(record, None, "reconcile", detail=problem)
        if seen.state is M.PENDING:
            return waiting(record, seen, L.IN_FLIGHT_WITHDRAWAL, record.from_chain, self.ctx, now)
        if seen.state is M.FAILED:
            reason = (
                f"withdrawal {record.withdrawal_ref} failed on {record.from_venue} and was "
                f"refunded: {seen.detail}"
            )
            return Recorded(
                failed(record, reason, L.SOURCE, None), "transfer.failed", "stop", detail=reason
            )
        nxt = TransferStep.BRIDGE if record.needs_bridge else TransferStep.DEPOSIT
        updated = transition(
            record,
            S.WITHDRAWN,
            funds_location=L.WALLET,
            funds_chain=record.from_chain,
            withdrawal_fee=seen.fee,
            fee=record.fee + seen.fee,
            unconfirmed_sends=0,
            external_state=None,
            next_check_at=now + self.ctx.stuck,
        )
        return Recorded(updated, "transfer.withdrawn", "next", nxt, f"fee {seen.fee}")


class BridgeStep(StepSpec):
    step = TransferStep.BRIDGE
    entry = (S.WITHDRAWN,)
    working = S.BRIDGING

    def _route(self, record: TransferRecord) -> BridgeRoute:
        return BridgeRoute(record.from_chain, record.to_chain, record.asset)

    def prepare(self, record: TransferRecord) -> Any:
        if record.status is not S.WITHDRAWN:
            return None
        route = self._route(record)
        # After a failed attempt, prefer another protocol; fall back to the same one if it is
        # the only one up.
        exclude = (
            {record.bridge_protocol} if record.bridge_ref and record.bridge_protocol else set()
        )
        try:
            return self.ctx.bridges.best(route, record.net_amount, exclude)
        except NoBridgeAvailableError:
            if not exclude:
                raise
            return self.ctx.bridges.best(route, record.net_amount)

    def begin(self, record: TransferRecord, prepared: Any, now: datetime) -> TransferRecord:
        key = step_key(record.id, self.step, record.bridge_ref)
        return intent(
            record,
            S.BRIDGING,
            now,
            self.ctx.stuck,
            bridge_ref=key,
            bridge_protocol=prepared.protocol,
        )

    def key(self, record: TransferRecord) -> str | None:
        return record.bridge_ref

    def lookup(self, record: TransferRecord) -> MovementReceipt | None:
        return self.ctx.bridges.status(str(record.bridge_protocol), str(record.bridge_ref))

    def send(self, record: TransferRecord) -> MovementReceipt:
        routing = self.ctx.routing
        source, target = routing.wallet(record.from_chain), routing.wallet(record.to_chain)
        routing.check_allowed(record.to_chain, target, "bridge transfer")
        return self.ctx.bridges.send(
            str(record.bridge_protocol),
            str(record.bridge_ref),
            self._route(record),
            record.net_amount,
            source,
            target,
        )

    def resting(self, record: TransferRecord) -> tuple[FundsLocation, str | None]:
        return L.WALLET, record.from_chain

    def record(self, record: TransferRecord, seen: MovementReceipt, now: datetime) -> Recorded:
        if (problem := self.check_amount(record, seen, record.net_amount)) is not None:
            return Recorded(record, None, "reconcile", detail=problem)
        if seen.state is M.PENDING:
            return waiting(record, seen, L.IN_FLIGHT_BRIDGE, None, self.ctx, now)
        if seen.state is M.FAILED:
            return self._after_failure(
                record,
                f"bridge {record.bridge_protocol} {record.bridge_ref} failed and refunded the "
                f"wallet: {seen.detail}",
                now,
            )
        updated = transition(
            record,
            S.BRIDGED,
            funds_location=L.WALLET,
            funds_chain=record.to_chain,
            bridge_fee=seen.fee,
            fee=record.fee + seen.fee,
            unconfirmed_sends=0,
            external_state=None,
            next_check_at=now + self.ctx.stuck,
        )
        return Recorded(
            updated, "transfer.bridged", "next", TransferStep.DEPOSIT, f"fee {seen.fee}"
        )

    def _after_failure(self, record: TransferRecord, reason: str, now: datetime) -> Recorded:
        if key_attempt(str(record.bridge_ref)) >= self.ctx.routing.policy.max_bridge_attempts:
            return Recorded(
                failed(record, reason, L.WALLET, record.from_chain),
                "transfer.failed",
                "stop",
                detail=reason,
            )
        updated = transition(
            record,
            S.WITHDRAWN,
            funds_location=L.WALLET,
            funds_chain=record.from_chain,
            last_error=reason,
            unconfirmed_sends=0,
            external_state=None,
            next_check_at=now + self.ctx.stuck,
        )
        return Recorded(updated, "transfer.bridge_failed", "next", TransferStep.BRIDGE, reason)

    def on_rejected(self, record: TransferRecord, reason: str) -> Recorded:
        if record.status is S.BRIDGING:  # the protocol refused this send: try another route
            return self._after_failure(record, reason, self.ctx.clock.now())
        return super().on_rejected(record, reason)  # nothing sent: the money waits in the wallet


class DepositStep(StepSpec):
    step = TransferStep.DEPOSIT
    entry = (S.WITHDRAWN, S.BRIDGED)
    working = S.DEPOSITING

    def prepare(self, record: TransferRecord) -> Any:
        if record.status is S.DEPOSITING:
            return None
        venue = self.ctx.venues.venue(record.to_venue, record.to_account)
        address = venue.deposit_address(record.asset, record.to_chain)
        if record.destination_address and address.lower() != record.destination_address.lower():
            raise TransferRefusedError(
                f"deposit to {record.to_venue}/{record.to_account}: the venue now gives deposit "
                f"address {address}, not {record.destination_address} as when the transfer was "
                "requested; refusing to send"
            )
        self.ctx.routing.check_venue_deposit(
            record.to_venue, record.to_account, record.to_chain, address
        )
        return address

    def begin(self, record: TransferRecord, prepared: Any, now: datetime) -> TransferRecord:
        key = step_key(record.id, self.step, record.deposit_ref)
        return intent(
            record, S.DEPOSITING, now, self.ctx.stuck, deposit_ref=key, destination_address=prepared
        )

    def key(self, record: TransferRecord) -> str | None:
        return record.deposit_ref

    def _observe(self, record: TransferRecord, sent: MovementReceipt) -> MovementReceipt:
        """The chain's report of the send, or once it is on chain, the venue's credit (which
        the venue books by reference: our key); CONFIRMED while the credit is not seen."""
        if sent.state is not M.COMPLETED:
            return sent
        venue = self.ctx.venues.venue(record.to_venue, record.to_account)
        try:
            credit = venue.get_deposit(str(record.deposit_ref))
        except (TransientExchangeError, UnknownOutcomeError, MalformedResponseError):
            # The wallet transfer is on chain either way: report it sent, ask again later.
            # (Raising here would count a send that did happen as one that did nothing.)
            credit = None
        if credit is None or credit.state is not M.COMPLETED:
            return replace(sent, state=M.CONFIRMED)
        return credit

    def lookup(self, record: TransferRecord) -> MovementReceipt | None:
        receipt = self.ctx.network.status(record.to_chain, str(record.deposit_ref))
        return None if receipt is None else self._observe(record, receipt)

    def send(self, record: TransferRecord) -> MovementReceipt:
        target = str(record.destination_address)
        self.ctx.routing.check_venue_deposit(
            record.to_venue, record.to_account, record.to_chain, target
        )
        receipt = self.ctx.network.send(
            record.to_chain,
            str(record.deposit_ref),
            self.ctx.routing.wallet(record.to_chain),
            target,
            record.asset,
            record.net_amount,
        )
        return self._observe(record, receipt)

    def resting(self, record: TransferRecord) -> tuple[FundsLocation, str | None]:
        return L.WALLET, record.to_chain

    def record(self, record: TransferRecord, seen: MovementReceipt, now: datetime) -> Recorded:
        if (problem := self.check_amount(record, seen, record.net_amount)) is not None:
            return Recorded(record, None, "reconcile", detail=problem)
        if seen.state in (M.PENDING, M.CONFIRMED):
            return waiting(record, seen, L.IN_FLIGHT_DEPOSIT, record.to_chain, self.ctx, now)
        if seen.state is M.FAILED:
            reason = (
                f"deposit {record.deposit_ref} failed on chain {record.to_chain}; the wallet "
                f"was refunded: {seen.detail}"
            )
            return Recorded(
                failed(record, reason, L.WALLET, record.to_chain),
                "transfer.failed",
                "stop",
                detail=reason,
            )
        updated = transition(
            record,
            S.COMPLETED,
            funds_location=L.DESTINATION,
            funds_chain=None,
            received=seen.amount,
            unconfirmed_sends=0,
            external_state=None,
            next_check_at=None,
            completed_at=now,
        )
        return Recorded(updated, "transfer.completed", "stop", detail=f"received {seen.amount}")


def build_steps(ctx: StepContext) -> dict[TransferStep, StepSpec]:
    return {spec.step: spec for spec in (WithdrawStep(ctx), BridgeStep(ctx), DepositStep(ctx))}

"""`FundTransferManager`: moves money between venues as a persisted, resumable state machine.

It implements the `TransferManager` interface (`strategies/components/transfer_types.py`):
requests are checked (`transfer_requests.py`) and stored, each step is run by the
`StepDriver` (`transfer_driver.py`, the transaction discipline; the steps themselves are in
`transfer_steps.py`), the operator's retry / resolve / cancel are the pure rules of
`transfer_operator.py` applied under the row lock. Statuses and the transition table are
in `strategies/components/transfer_states.py`.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from core.clock import Clock
from core.enums import FundsLocation, TransferStatus
from exchanges.bridges.base import WalletNetwork
from strategies.components.transfer_states import step_for
from strategies.components.transfer_types import (
    StepDispatcher,
    StepOutcome,
    TransferError,
    TransferRecord,
    TransferRequestResult,
    TransferStep,
    TransferStore,
    VenueDirectory,
)
from strategies.implementations.funding_arbitrage.operations import transfer_operator
from strategies.implementations.funding_arbitrage.operations.bridge_manager import BridgeManager
from strategies.implementations.funding_arbitrage.operations.transfer_config import (
    TransferRoutingConfig,
)
from strategies.implementations.funding_arbitrage.operations.transfer_driver import (
    StepDriver,
    stored,
)
from strategies.implementations.funding_arbitrage.operations.transfer_requests import new_transfer
from strategies.implementations.funding_arbitrage.operations.transfer_step_base import StepContext


class FundTransferManager:
    """Requests transfers and advances them one step at a time (see the module docstring)."""

    def __init__(
        self,
        store: TransferStore,
        venues: VenueDirectory,
        network: WalletNetwork,
        bridges: BridgeManager,
        routing: TransferRoutingConfig,
        clock: Clock,
        dispatcher: StepDispatcher | None = None,
    ) -> None:
        routing.check_withdrawal_dedupe(venues)
        self._store = store
        self._venues = venues
        self._bridges = bridges
        self._routing = routing
        self._clock = clock
        self._ctx = StepContext(venues, network, bridges, routing, clock)
        self._driver = StepDriver(store, self._ctx, dispatcher)

    # ---------------------------------------------------------------- requests

    def request_transfer(
        self,
        from_venue: str,
        to_venue: str,
        amount: Decimal,
        *,
        asset: str | None = None,
        from_account: str = "main",
        to_account: str = "main",
        reason: str | None = None,
        strategy_name: str | None = None,
        dedupe_key: str | None = None,
    ) -> TransferRequestResult:
        """Create a transfer (PENDING) and start it; idempotent per dedupe key.

        While a transfer with the same dedupe key is in flight (any status but COMPLETED,
        FAILED, CANCELLED) that transfer is returned with `created=False` and nothing new is
        made. The default key is one per (strategy, source, destination, asset); operator and
        strategy keys live in separate namespaces. A new transfer must fit the route's rolling
        24 h cap, checked under the route's lock (`RouteCapExceededError`). Raises
        `TransferRefusedError` or `ConfigError` naming what is wrong; nothing is stored then.
        """
        # With a dispatcher the first step is enqueued at once and the sweeper is only the
        # safety net; without one (no Celery in this process) the sweeper starts it.
        delay = self._ctx.stuck if self._driver.dispatches else timedelta(0)
        new = new_transfer(
            routing=self._routing,
            bridges=self._bridges,
            venues=self._venues,
            from_venue=from_venue,
            from_account=from_account,
            to_venue=to_venue,
            to_account=to_account,
            amount=amount,
            asset=asset,
            reason=reason,
            strategy_name=strategy_name,
            dedupe_key=dedupe_key,
            next_check_at=self._clock.now() + delay,
        )
        record, created = self._store.create(new, self._routing.policy.route_cap)
        if created:
            self._driver.dispatch(TransferStep.WITHDRAW, record.id)
        return TransferRequestResult(record, created)

    # ---------------------------------------------------------------- steps

    def advance(self, step: TransferStep, transfer_id: uuid.UUID) -> StepOutcome:
        """Run `step` if the transfer's status calls for it; otherwise do nothing.

        Raises `TransientTransferError` when the step should be retried later.
        """
        return self._driver.advance(step, transfer_id)

    def give_up(self, step: TransferStep, transfer_id: uuid.UUID, reason: str) -> StepOutcome:
        """The step's retries are exhausted: FAILED where the money rests if nothing is in
        doubt, NEEDS_RECONCILE if a send may have happened, polling on if the money is
        confirmed in flight."""
        return self._driver.give_up(step, transfer_id, reason)

    def sweep(self) -> builtins.list[tuple[uuid.UUID, TransferStep]]:
        """Enqueue the step of every active transfer that is due (waiting or stuck)."""
        if not self._driver.dispatches:
            raise TransferError("the transfer sweep needs a step dispatcher (Celery)")
        now = self._clock.now()
        due = self._store.claim_due(now, now + self._ctx.stuck, self._routing.policy.sweep_batch)
        dispatched = []
        for record in due:
            step = step_for(record)
            if step is not None:
                self._driver.dispatch(step, record.id)
                dispatched.append((record.id, step))
        return dispatched

    # ---------------------------------------------------------------- operator

    def retry(self, transfer_id: uuid.UUID, note: str | None = None) -> TransferRecord:
        """Resume a FAILED transfer from where its money rests (with a new key for the step)
        or a NEEDS_RECONCILE one at its step (its key is looked up, then sent under the same
        key if the other side does not know it: the operator checked it was not carried out).

        A transfer that failed with its money at the source counts against its route's cap
        again once retried: the retry is refused (`RouteCapExceededError`) if it does not fit."""
        with self._store.locked(transfer_id) as unit:
            check_at = self._clock.now() + self._ctx.stuck
            updated = transfer_operator.retried(unit.record, note, check_at)
            if updated.status is TransferStatus.PENDING:
                unit.check_route_cap(self._routing.policy.route_cap)
            resumed = unit.save(updated, "transfer.retry", note=note)
        step = step_for(resumed)
        if step is not None:
            self._driver.dispatch(step, resumed.id)
        return resumed

    def resolve(
        self,
        transfer_id: uuid.UUID,
        outcome: str,
        note: str,
        location: FundsLocation | None = None,
        chain: str | None = None,
        received: Decimal | None = None,
    ) -> TransferRecord:
        """Record how an operator settled a FAILED / NEEDS_RECONCILE transfer by hand:
        `completed`, `cancelled` (money at the source) or `failed` with its location."""
        with self._store.locked(transfer_id) as unit:
            updated = transfer_operator.resolved(
                unit.record, outcome, note, self._clock.now(), location, chain, received
            )
            return unit.save(updated, "transfer.resolved", outcome=outcome, note=note)

    def cancel(self, transfer_id: uuid.UUID, note: str | None = None) -> TransferRecord:
        """Cancel a transfer that has not started (PENDING): nothing was sent."""
        with self._store.locked(transfer_id) as unit:
            updated = transfer_operator.cancelled(unit.record, note)
            return unit.save(updated, "transfer.cancelled", note=note)

    # ---------------------------------------------------------------- queries

    def get(self, transfer_id: uuid.UUID) -> TransferRecord:
        return stored(self._store, transfer_id)

    def list(
        self, statuses: Sequence[TransferStatus] | None = None, limit: int = 50
    ) -> builtins.list[TransferRecord]:
        return self._store.list(statuses, limit)

"""`FundTransferManager`: moves money between venues as a persisted, resumable state machine.

Statuses and the transition table are in `transfer_states.py`; the three steps (withdraw,
bridge, deposit) in `transfer_steps.py`. This module runs a step with the transaction
discipline that makes it safe to repeat at any point (at-least-once delivery, crashes):

1. lock the row; if the step is already done, do nothing; otherwise write the intent — the
   next status and the step's idempotency key `<transfer id>:<step>:<n>` — and commit;
2. perform the side effect with that key (venue withdrawal, bridge send, wallet transfer);
   if an earlier run may already have sent it, look the key up first;
3. lock the row again and record the result and the next status in one transaction;
4. only after that commit, enqueue the next step.

An unknown outcome (timeout after sending) is never re-sent blindly: the key is looked up;
only if the other side guarantees one transfer per key may an unknown key be sent again,
under the same key and a bounded number of times; otherwise the transfer goes to
NEEDS_RECONCILE. Waits (a withdrawal or bridge in flight) are `next_check_at` values that
the `transfers-sweep` beat task polls, so a lost message only delays a transfer.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from core.clock import Clock
from core.enums import FundsLocation, TransferStatus
from exchanges.base import (
    CapabilityNotSupportedError,
    MalformedResponseError,
    OrderRejectedError,
    TransientExchangeError,
    UnknownOutcomeError,
)
from exchanges.bridges.base import WalletNetwork
from strategies.implementations.funding_arbitrage.operations import transfer_operator
from strategies.implementations.funding_arbitrage.operations.bridge_manager import BridgeManager
from strategies.implementations.funding_arbitrage.operations.transfer_config import (
    TransferRoutingConfig,
)
from strategies.implementations.funding_arbitrage.operations.transfer_requests import new_transfer
from strategies.implementations.funding_arbitrage.operations.transfer_states import (
    ACTIVE_STATUSES,
    TRANSITIONS,
    step_for,
    transition,
)
from strategies.implementations.funding_arbitrage.operations.transfer_step_base import (
    Observation,
    Recorded,
    StepContext,
    StepSpec,
    failed,
)
from strategies.implementations.funding_arbitrage.operations.transfer_steps import build_steps
from strategies.implementations.funding_arbitrage.operations.transfer_types import (
    StepDispatcher,
    StepOutcome,
    TransferError,
    TransferNotFoundError,
    TransferRecord,
    TransferRefusedError,
    TransferRequestResult,
    TransferStep,
    TransferStore,
    TransientTransferError,
    VenueDirectory,
)

log = logging.getLogger(__name__)
S = TransferStatus
Guard = Callable[[TransferRecord], bool]

__all__ = ["ACTIVE_STATUSES", "TRANSITIONS", "FundTransferManager", "transition"]


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
        self._store = store
        self._venues = venues
        self._bridges = bridges
        self._routing = routing
        self._clock = clock
        self._dispatcher = dispatcher
        self._ctx = StepContext(venues, network, bridges, routing, clock)
        self._steps = build_steps(self._ctx)

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
        made. The default key is one per (strategy, source, destination, asset). Raises
        `TransferRefusedError` or `ConfigError` naming what is wrong; nothing is stored then.
        """
        # With a dispatcher the first step is enqueued at once and the sweeper is only the
        # safety net; without one (no Celery in this process) the sweeper starts it.
        delay = self._ctx.stuck if self._dispatcher is not None else timedelta(0)
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
        record, created = self._store.create(new)
        if created:
            self._dispatch(TransferStep.WITHDRAW, record.id)
        return TransferRequestResult(record, created)

    # ---------------------------------------------------------------- steps

    def advance(self, step: TransferStep, transfer_id: uuid.UUID) -> StepOutcome:
        """Run `step` if the transfer's status calls for it; otherwise do nothing.

        Raises `TransientTransferError` when the step should be retried later.
        """
        spec = self._steps[step]
        for _ in range(3):
            snapshot = self.get(transfer_id)
            if step_for(snapshot) is not step:
                return _noop(snapshot, f"status {snapshot.status.value} is not for {step.value}")
            try:
                prepared = spec.prepare(snapshot)
            except TransferRefusedError as exc:
                return self._refuse(spec, snapshot, str(exc))
            with self._store.locked(transfer_id) as unit:
                record = unit.record
                if record.version != snapshot.version:
                    continue  # moved on while we prepared: look again
                fresh = record.status in spec.entry
                if fresh:
                    begun = spec.begin(record, prepared, self._clock.now())
                    record = unit.save(begun, f"transfer.{begun.status.value}", key=spec.key(begun))
            return self._carry_out(spec, record, fresh)
        raise TransientTransferError(f"transfer {transfer_id} keeps changing under {step.value}")

    def _refuse(self, spec: StepSpec, snapshot: TransferRecord, reason: str) -> StepOutcome:
        """The step cannot start (no route, address not allowed): stop where the money is."""
        return self._apply(
            snapshot, lambda cur: spec.on_rejected(cur, reason), _unchanged(snapshot)
        )

    def _carry_out(self, spec: StepSpec, record: TransferRecord, fresh: bool) -> StepOutcome:
        seen: Observation | StepOutcome | None = None
        if not fresh:  # an earlier run may have sent this key: look it up before anything
            seen = self._lookup(spec, record)
            if isinstance(seen, StepOutcome):
                return seen
            if seen is None:
                doubt = self._doubt(spec, record)
                if doubt is not None:
                    return self._apply(
                        record, lambda cur: _reconcile(cur, doubt), _same(spec, record)
                    )
                marked = self._mark_send(spec, record)
                if marked is None:
                    return _noop(record, "another run moved this transfer on")
                record = marked
        if seen is None:
            seen = self._send(spec, record)
            if isinstance(seen, StepOutcome):
                return seen
        observed, now = seen, self._clock.now()
        return self._apply(record, lambda cur: spec.record(cur, observed, now), _same(spec, record))

    def _lookup(self, spec: StepSpec, record: TransferRecord) -> Observation | StepOutcome | None:
        key = spec.key(record)
        try:
            return spec.lookup(record)
        except CapabilityNotSupportedError as exc:
            reason = f"{spec.step.value} {key}: cannot be looked up ({exc}); check it by hand"
            return self._apply(record, lambda cur: _reconcile(cur, reason), _same(spec, record))
        except (TransientExchangeError, UnknownOutcomeError, MalformedResponseError) as exc:
            raise TransientTransferError(f"{spec.step.value} {key}: lookup failed: {exc}") from exc

    def _doubt(self, spec: StepSpec, record: TransferRecord) -> str | None:
        """Why a key the other side does not know must not be sent (again), if it must not."""
        what = f"{spec.step.value} {spec.key(record)}"
        if record.external_state is not None:
            return f"{what} was reported {record.external_state.value} before and is now unknown"
        if record.unconfirmed_sends == 0:
            return None  # nothing was sent, or every send is known to have done nothing
        if not spec.resend_allowed(record):
            return (
                f"{what}: outcome of the send unknown, the other side does not know the key "
                "and does not guarantee one transfer per key; check it by hand"
            )
        if record.unconfirmed_sends >= self._routing.policy.max_unconfirmed_sends:
            return f"{what}: sent {record.unconfirmed_sends} times with no confirmed outcome"
        return None

    def _send(self, spec: StepSpec, record: TransferRecord) -> Observation | StepOutcome:
        what = f"{spec.step.value} {spec.key(record)}"
        try:
            return spec.send(record)
        except TransientExchangeError as exc:
            self._send_did_nothing(spec, record, str(exc))
            raise TransientTransferError(f"{what}: {exc}") from exc
        except (OrderRejectedError, CapabilityNotSupportedError, TransferRefusedError) as exc:
            reason = f"{what} refused: {exc}"
            return self._apply(
                record, lambda cur: spec.on_rejected(cur, reason), _same(spec, record)
            )
        except (UnknownOutcomeError, MalformedResponseError) as exc:
            found = self._lookup(spec, record)
            if found is None:
                raise TransientTransferError(
                    f"{what}: outcome unknown ({exc}) and the key is not known yet; "
                    "looking it up again"
                ) from exc
            return found

    def _mark_send(self, spec: StepSpec, record: TransferRecord) -> TransferRecord | None:
        """Count a (re)send as in doubt before making it."""
        with self._store.locked(record.id) as unit:
            current = unit.record
            if current.version != record.version:
                return None
            return unit.save(
                replace(
                    current,
                    unconfirmed_sends=current.unconfirmed_sends + 1,
                    attempts=current.attempts + 1,
                    next_check_at=self._clock.now() + self._ctx.stuck,
                ),
                "transfer.resend" if current.unconfirmed_sends else None,
                key=spec.key(current),
            )

    def _send_did_nothing(self, spec: StepSpec, record: TransferRecord, error: str) -> None:
        """A transient error means the send did nothing: it no longer counts as in doubt."""
        with self._store.locked(record.id) as unit:
            current = unit.record
            if _same(spec, record)(current) and current.unconfirmed_sends > 0:
                unsent = replace(
                    current, unconfirmed_sends=current.unconfirmed_sends - 1, last_error=error
                )
                unit.save(unsent, None)

    def _apply(
        self, record: TransferRecord, change: Callable[[TransferRecord], Recorded], guard: Guard
    ) -> StepOutcome:
        """Lock, check `guard` (the attempt is still current), record `change`, commit; then
        dispatch the next step."""
        with self._store.locked(record.id) as unit:
            current = unit.record
            if not guard(current):
                return _noop(current, "another run already recorded this step")
            recorded = change(current)
            if recorded.action == "reconcile":
                recorded = _reconcile(current, recorded.detail)
            stored = current
            if recorded.record != current:
                stored = unit.save(recorded.record, recorded.event, detail=recorded.detail)
        if recorded.action == "next" and recorded.next_step is not None:
            self._dispatch(recorded.next_step, stored.id)
        return StepOutcome(
            stored.id, stored.status, recorded.action, recorded.next_step, recorded.detail
        )

    def give_up(self, step: TransferStep, transfer_id: uuid.UUID, reason: str) -> StepOutcome:
        """The step's retries are exhausted: FAILED where the money rests if nothing is in
        doubt, NEEDS_RECONCILE if a send may have happened, polling on if the money is
        confirmed in flight (the venue or bridge has it; failing would not bring it back)."""
        spec = self._steps[step]
        record = self.get(transfer_id)

        def decide(cur: TransferRecord) -> Recorded:
            if cur.status in spec.entry or (
                cur.unconfirmed_sends == 0 and cur.external_state is None
            ):
                location, chain = spec.resting(cur)
                text = f"{step.value} gave up after retries: {reason}"
                return Recorded(
                    failed(cur, text, location, chain), "transfer.failed", "stop", detail=text
                )
            if cur.external_state is not None:
                later = replace(
                    cur, last_error=reason, next_check_at=self._clock.now() + self._ctx.poll
                )
                return Recorded(later, None, "wait", detail=f"in flight; polling on: {reason}")
            return _reconcile(
                cur, f"{step.value} {spec.key(cur)}: gave up with a send in doubt: {reason}"
            )

        return self._apply(record, decide, guard=lambda cur: step_for(cur) is step)

    def sweep(self) -> list[tuple[uuid.UUID, TransferStep]]:
        """Enqueue the step of every active transfer that is due (waiting or stuck)."""
        if self._dispatcher is None:
            raise TransferError("the transfer sweep needs a step dispatcher (Celery)")
        now = self._clock.now()
        due = self._store.claim_due(now, now + self._ctx.stuck, self._routing.policy.sweep_batch)
        dispatched = []
        for record in due:
            step = step_for(record)
            if step is not None:
                self._dispatch(step, record.id)
                dispatched.append((record.id, step))
        return dispatched

    # ---------------------------------------------------------------- operator

    def retry(self, transfer_id: uuid.UUID, note: str | None = None) -> TransferRecord:
        """Resume a FAILED transfer from where its money rests (with a new key for the step)
        or a NEEDS_RECONCILE one at its step (its key is looked up, then sent under the same
        key if the other side does not know it: the operator checked it was not carried out)."""
        with self._store.locked(transfer_id) as unit:
            check_at = self._clock.now() + self._ctx.stuck
            updated = transfer_operator.retried(unit.record, note, check_at)
            stored = unit.save(updated, "transfer.retry", note=note)
        step = step_for(stored)
        if step is not None:
            self._dispatch(step, stored.id)
        return stored

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
        record = self._store.get(transfer_id)
        if record is None:
            raise TransferNotFoundError(f"no fund transfer with id {transfer_id}")
        return record

    def list(
        self, statuses: Sequence[TransferStatus] | None = None, limit: int = 50
    ) -> list[TransferRecord]:
        return self._store.list(statuses, limit)

    def _dispatch(self, step: TransferStep, transfer_id: uuid.UUID) -> None:
        if self._dispatcher is None:
            return
        try:
            self._dispatcher.dispatch(step, transfer_id)
        except Exception:  # broker down: the row's next_check_at lets the sweeper resume it
            log.warning(
                "could not enqueue %s for transfer %s; the sweeper will resume it",
                step.value,
                transfer_id,
                exc_info=True,
            )


def _same(spec: StepSpec, seen: TransferRecord) -> Guard:
    """Guard: the transfer is still in the step's working status with the same key."""
    return lambda cur: cur.status is spec.working and spec.key(cur) == spec.key(seen)


def _unchanged(seen: TransferRecord) -> Guard:
    return lambda cur: cur.version == seen.version


def _reconcile(record: TransferRecord, reason: str) -> Recorded:
    updated = transition(
        record,
        S.NEEDS_RECONCILE,
        paused_status=record.status,
        last_error=reason,
        next_check_at=None,
    )
    return Recorded(updated, "transfer.needs_reconcile", "stop", detail=reason)


def _noop(record: TransferRecord, detail: str) -> StepOutcome:
    return StepOutcome(record.id, record.status, "noop", detail=detail)

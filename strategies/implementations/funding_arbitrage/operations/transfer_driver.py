"""`StepDriver`: runs one transfer step with the transaction discipline that makes it safe to
repeat at any point (at-least-once delivery, crashes):

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

The steps themselves (what to send, how to read the answer) are in `transfer_steps.py`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import replace

from core.enums import TransferStatus
from exchanges.base import (
    CapabilityNotSupportedError,
    MalformedResponseError,
    MovementReceipt,
    OrderRejectedError,
    TransientExchangeError,
    UnknownOutcomeError,
)
from strategies.components.transfer_states import step_for, transition
from strategies.components.transfer_types import (
    StepDispatcher,
    StepOutcome,
    TransferNotFoundError,
    TransferRecord,
    TransferRefusedError,
    TransferStep,
    TransferStore,
    TransientTransferError,
)
from strategies.implementations.funding_arbitrage.operations.transfer_step_base import (
    Recorded,
    StepContext,
    StepSpec,
    failed,
)
from strategies.implementations.funding_arbitrage.operations.transfer_steps import build_steps

log = logging.getLogger(__name__)
S = TransferStatus
Guard = Callable[[TransferRecord], bool]


def stored(store: TransferStore, transfer_id: uuid.UUID) -> TransferRecord:
    """The transfer as stored, or `TransferNotFoundError`."""
    record = store.get(transfer_id)
    if record is None:
        raise TransferNotFoundError(f"no fund transfer with id {transfer_id}")
    return record


class StepDriver:
    """Advances a transfer one step at a time (see the module docstring); enqueues the next
    step through `dispatcher` after each commit (none: the sweeper picks it up)."""

    def __init__(
        self, store: TransferStore, ctx: StepContext, dispatcher: StepDispatcher | None
    ) -> None:
        self._store = store
        self._ctx = ctx
        self._dispatcher = dispatcher
        self._steps = build_steps(ctx)

    @property
    def dispatches(self) -> bool:
        """Whether steps are enqueued (Celery); without, the sweeper starts every step."""
        return self._dispatcher is not None

    def advance(self, step: TransferStep, transfer_id: uuid.UUID) -> StepOutcome:
        """Run `step` if the transfer's status calls for it; otherwise do nothing.

        Raises `TransientTransferError` when the step should be retried later.
        """
        spec = self._steps[step]
        for _ in range(3):
            snapshot = stored(self._store, transfer_id)
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
                    begun = spec.begin(record, prepared, self._ctx.clock.now())
                    record = unit.save(begun, f"transfer.{begun.status.value}", key=spec.key(begun))
            return self._carry_out(spec, record, fresh)
        raise TransientTransferError(f"transfer {transfer_id} keeps changing under {step.value}")

    def give_up(self, step: TransferStep, transfer_id: uuid.UUID, reason: str) -> StepOutcome:
        """The step's retries are exhausted: FAILED where the money rests if nothing is in
        doubt, NEEDS_RECONCILE if a send may have happened, polling on if the money is
        confirmed in flight (the venue or bridge has it; failing would not bring it back)."""
        spec = self._steps[step]
        record = stored(self._store, transfer_id)

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
                    cur, last_error=reason, next_check_at=self._ctx.clock.now() + self._ctx.poll
                )
                return Recorded(later, None, "wait", detail=f"in flight; polling on: {reason}")
            return _reconcile(
                cur, f"{step.value} {spec.key(cur)}: gave up with a send in doubt: {reason}"
            )

        return self._apply(record, decide, guard=lambda cur: step_for(cur) is step)

    def dispatch(self, step: TransferStep, transfer_id: uuid.UUID) -> None:
        """Enqueue `step` (after a commit). Broker trouble is not an error: the row's
        `next_check_at` lets the sweeper resume the transfer."""
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

    # ---------------------------------------------------------------- one attempt

    def _refuse(self, spec: StepSpec, snapshot: TransferRecord, reason: str) -> StepOutcome:
        """The step cannot start (no route, address not allowed): stop where the money is."""
        return self._apply(
            snapshot, lambda cur: spec.on_rejected(cur, reason), _unchanged(snapshot)
        )

    def _carry_out(self, spec: StepSpec, record: TransferRecord, fresh: bool) -> StepOutcome:
        seen: MovementReceipt | None = None
        if not fresh:  # an earlier run may have sent this key: look it up before anything
            found = self._lookup(spec, record)
            if isinstance(found, StepOutcome):
                return found
            seen = found
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
            sent = self._send(spec, record)
            if isinstance(sent, StepOutcome):
                return sent
            seen = sent
        observed, now = seen, self._ctx.clock.now()
        return self._apply(record, lambda cur: spec.record(cur, observed, now), _same(spec, record))

    def _lookup(
        self, spec: StepSpec, record: TransferRecord
    ) -> MovementReceipt | StepOutcome | None:
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
        if record.unconfirmed_sends >= self._ctx.routing.policy.max_unconfirmed_sends:
            return f"{what}: sent {record.unconfirmed_sends} times with no confirmed outcome"
        return None

    def _send(self, spec: StepSpec, record: TransferRecord) -> MovementReceipt | StepOutcome:
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
                    next_check_at=self._ctx.clock.now() + self._ctx.stuck,
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
            result = current
            if recorded.record != current:
                result = unit.save(recorded.record, recorded.event, detail=recorded.detail)
        if recorded.action == "next" and recorded.next_step is not None:
            self.dispatch(recorded.next_step, result.id)
        return StepOutcome(
            result.id, result.status, recorded.action, recorded.next_step, recorded.detail
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

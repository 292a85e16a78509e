"""One leg's orders: client ids, bounded sending, bringing a leg to a size.

The lowest level of funding arbitrage's execution: it knows one leg at a time and calls only
the `OrderExecution` component (intent journaled before it is sent, unknown outcomes looked
up before anything is resent) and the leg's venue. Position-level code
(`hedged_execution.py`, `recovery.py`) calls it; it never calls back up. On top of the
order executor it adds:

- client ids derived from what an order is for: `fa-<position hex>-<L|S>-<purpose>[n]`,
  where `n` (from 2) numbers further attempts of the same purpose. The attempt number is
  the count of orders of that purpose already journaled for the leg, so a process that
  restarts computes the same ids and never reuses one that is finished;
- `place`: transient errors are retried until a deadline (a value of the clock's
  `monotonic()`, set by the position-level caller), then the order is followed until
  the venue says what happened to it (or the deadline passes: it stays unresolved);
- `held`: what the leg holds on its venue (read twice when it disagrees with our fills),
  with a note naming the difference: more than our fills is an excess to trade away,
  never hidden behind the smaller of the two;
- `converge`: market orders until the leg holds `target`, bounded in time.

Every wait and deadline is on the injected clock (`Clock.sleep`, `Clock.monotonic`): under
a simulated clock a deadline is simulated seconds and a wait returns at once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from core.clock import Clock
from core.enums import OrderStatus, OrderType
from core.money import quantize_down
from exchanges.base import ExchangeError, TransientExchangeError
from strategies.components.base_components import (
    OrderExecution,
    OrderIntent,
    OrderRecord,
    VenueClients,
)
from strategies.implementations.funding_arbitrage.config import ExecutionConfig
from strategies.implementations.funding_arbitrage.models import Leg, LegSpec, qty_text
from strategies.implementations.funding_arbitrage.operations.accounting import (
    journal_held,
    leg_records,
)

logger = logging.getLogger(__name__)

# An order in one of these states may still fill: its outcome is not known yet.
UNRESOLVED = (
    OrderStatus.SENT,
    OrderStatus.UNKNOWN,
    OrderStatus.OPEN,
    OrderStatus.PARTIALLY_FILLED,
)
MAX_ATTEMPTS = 20  # per leg and purpose: a bound on ids, far above what a deadline allows
# A simulated clock moves only when waited on: a zero pause between retries would then
# retry forever without reaching any deadline.
MIN_PAUSE_SECONDS = 0.001


def client_order_id(position_id: uuid.UUID, leg: Leg, purpose: str, attempt: int = 1) -> str:
    """`fa-<32 hex>-<L|S>-<purpose>[attempt]`, at most 64 characters."""
    suffix = "" if attempt == 1 else str(attempt)
    return f"fa-{position_id.hex}-{leg.value}-{purpose}{suffix}"


@dataclass(frozen=True, slots=True)
class LegResult:
    """What a leg holds after an operation; `ok` False says why in `detail`."""

    leg: Leg
    held: Decimal
    ok: bool
    detail: str = ""
    orders: tuple[str, ...] = ()
    unknown: bool = False  # an order's outcome is still unknown


def is_unresolved(record: OrderRecord) -> bool:
    return record.status in UNRESOLVED


class LegOrders:
    """Places and follows the orders of single legs for one strategy."""

    def __init__(
        self,
        strategy_name: str,
        orders: OrderExecution,
        venues: VenueClients,
        execution: ExecutionConfig,
        clock: Clock,
    ) -> None:
        self._strategy = strategy_name
        self._orders = orders
        self._venues = venues
        self._execution = execution
        self._clock = clock

    def _expired(self, deadline: float) -> bool:
        return self._clock.monotonic() >= deadline

    def _pause(self) -> None:
        self._clock.sleep(max(self._execution.retry_interval_seconds, MIN_PAUSE_SECONDS))

    # ---------------------------------------------------------------- reading

    def records(self, position_id: uuid.UUID) -> list[OrderRecord]:
        """Every journaled order of the position."""
        return self._orders.journal.find(self._strategy, position_id=position_id)

    def record(self, client_order_id: str) -> OrderRecord | None:
        return self._orders.journal.get(client_order_id)

    def _leg_records(
        self, position_id: uuid.UUID, spec: LegSpec, purpose: str
    ) -> list[OrderRecord]:
        """The leg's orders for `purpose`: their count numbers the next attempt."""
        records = leg_records(self.records(position_id), spec)
        return [r for r in records if r.intent.purpose == purpose]

    def _venue_held(self, spec: LegSpec) -> Decimal:
        """The venue's position on the leg's side (negative: the venue holds the other side)."""
        for position in self._venues.client(spec.venue).positions():
            if position.symbol == spec.symbol:
                return position.qty * spec.leg.sign
        return Decimal(0)

    def mark(self, spec: LegSpec) -> Decimal | None:
        """The leg's mid price now, or None if its venue cannot say."""
        try:
            return self._venues.client(spec.venue).top_of_book(spec.symbol).mid
        except ExchangeError as exc:
            logger.warning("%s %s: no price: %s", spec.venue, spec.symbol, exc)
            return None

    def held(self, position_id: uuid.UUID, spec: LegSpec) -> tuple[Decimal, str]:
        """What the leg holds on its venue, and a note when our fills say otherwise.

        A venue that disagrees with our fills is read a second time (a position endpoint
        may lag the fills); what it then reports is what the leg holds. Less than our
        fills: the venue took it (liquidation, ADL). More: it was added outside perpbot,
        and is held all the same, so it is traded down like any other excess, never hidden
        behind the smaller of the two numbers (a leg "hedged" on a min() stays naked).
        """
        own = journal_held(self.records(position_id), spec)
        venue = self._venue_held(spec)
        if venue != own:
            self._pause()
            venue = self._venue_held(spec)
        note = ""
        if venue != own:
            outside = "added outside perpbot" if venue > own else "taken by the venue"
            note = (
                f"{spec.leg.label} leg: our fills say {qty_text(own)}, "
                f"{spec.venue} holds {qty_text(venue)} ({outside})"
            )
        return max(venue, Decimal(0)), note

    # ---------------------------------------------------------------- placing

    def journal_intent(self, intent: OrderIntent) -> OrderRecord:
        """Record `intent` without sending it (both legs are journaled before either is sent)."""
        return self._orders.journal.record_intent(intent)

    def place(self, intent: OrderIntent, deadline: float) -> OrderRecord:
        """Send `intent` (once), retrying transient errors until `deadline`, then follow it
        until its outcome is known or the deadline passes."""
        while True:
            try:
                record = self._orders.submit(intent)
                break
            except TransientExchangeError as exc:
                if self._expired(deadline):
                    logger.warning("%s: giving up after transient errors: %s", intent, exc)
                    stored = self._orders.journal.get(intent.client_order_id)
                    assert stored is not None  # submit journals the intent before sending
                    return stored
                self._pause()
        return self.settle(record, deadline)

    def settle(self, record: OrderRecord, deadline: float) -> OrderRecord:
        """Refresh an order until the venue says what became of it, or `deadline` passes
        (a resting order is then cancelled, so that it cannot fill later)."""
        while is_unresolved(record):
            if self._expired(deadline):
                if record.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
                    record = self._safely(record, self._orders.cancel)
                return record
            self._pause()
            record = self._safely(record, self._orders.refresh)
        return record

    def _safely(self, record: OrderRecord, call: Callable[[str], OrderRecord]) -> OrderRecord:
        try:
            return call(record.client_order_id)
        except ExchangeError as exc:
            logger.warning("%s: %s", record.client_order_id, exc)
            return record

    def abandon_unsent(self, record: OrderRecord) -> OrderRecord:
        """Mark an intent that never reached a venue as cancelled (it will never be sent)."""
        if record.status is OrderStatus.INTENT:
            return self._orders.cancel(record.client_order_id)
        return record

    # ---------------------------------------------------------------- resizing

    def converge(
        self,
        position_id: uuid.UUID,
        spec: LegSpec,
        target: Decimal,
        purpose: str,
        deadline: float,
        grow: bool = False,
    ) -> LegResult:
        """Bring the leg to `target`: down with reduce-only market orders, or (only with
        `grow`) up with opening-side market orders."""
        placed: list[str] = []
        last_error = ""
        while True:
            earlier = self._leg_records(position_id, spec, purpose)
            for record in earlier:
                record = self.settle(self.abandon_unsent(record), deadline)
                if is_unresolved(record):
                    return LegResult(
                        spec.leg,
                        journal_held(self.records(position_id), spec),
                        False,
                        f"outcome of {record.client_order_id} unknown ({record.status})",
                        tuple(placed),
                        unknown=True,
                    )
            try:
                held, note = self.held(position_id, spec)
            except ExchangeError as exc:
                held, note = journal_held(self.records(position_id), spec), ""
                last_error = f"{spec.venue} positions unavailable: {exc}"
                if self._expired(deadline):
                    return LegResult(spec.leg, held, False, last_error, tuple(placed))
                self._pause()
                continue
            gap = held - target if held > target else (target - held if grow else Decimal(0))
            size = quantize_down(gap, spec.qty_step)
            if size < spec.min_qty:
                dust = (
                    f"; {qty_text(held - target)} from the target, below the minimum size"
                    if gap
                    else ""
                )
                return LegResult(spec.leg, held, True, note + dust, tuple(placed))
            reducing = held > target
            attempt = len(earlier) + 1
            if attempt > MAX_ATTEMPTS or self._expired(deadline):
                detail = (
                    f"still holds {qty_text(held)} (target {qty_text(target)}) "
                    f"after {len(earlier)} orders"
                )
                return LegResult(spec.leg, held, False, f"{detail}; {last_error}", tuple(placed))
            intent = OrderIntent(
                client_order_id=client_order_id(position_id, spec.leg, purpose, attempt),
                strategy_name=self._strategy,
                venue=spec.venue,
                symbol=spec.symbol,
                side=spec.leg.closing_side if reducing else spec.leg.opening_side,
                order_type=OrderType.MARKET,
                quantity=size,
                purpose=purpose,
                reduce_only=reducing,
                position_id=position_id,
            )
            record = self.place(intent, deadline)
            placed.append(intent.client_order_id)
            if record.filled_qty == 0 and not is_unresolved(record):
                last_error = f"{intent.client_order_id} {record.status}: {record.error or ''}"
                self._pause()

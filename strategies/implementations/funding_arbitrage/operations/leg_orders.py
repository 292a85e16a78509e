"""Orders of one leg of a hedged position: client ids, bounded sending, shrinking a leg.

Every order goes through the injected `OrderExecution` (intent journaled before it is sent,
unknown outcomes looked up before anything is resent). On top of it this module adds:

- client ids derived from what an order is for: `fa-<position hex>-<L|S>-<purpose>[n]`,
  where `n` (from 2) numbers further attempts of the same purpose. The attempt number is
  the count of orders of that purpose already journaled for the leg, so a process that
  restarts computes the same ids and never reuses one that is finished;
- `place`: transient errors are retried until a deadline, then the order is followed until
  the venue says what happened to it (or the deadline passes: it stays unresolved);
- `held`: what the leg holds, as the smaller of our own fills (journal) and the venue's
  position, so a leg is never traded on more than both sources agree on;
- `converge`: reduce-only market orders until the leg holds `target`, bounded in time.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from core.enums import OrderStatus, OrderType
from core.money import quantize_down
from exchanges.base import ExchangeClient, ExchangeError, TransientExchangeError
from strategies.components.base_components import OrderExecution, OrderIntent, OrderRecord
from strategies.implementations.funding_arbitrage.config import ExecutionConfig
from strategies.implementations.funding_arbitrage.models import Leg, qty_text

logger = logging.getLogger(__name__)

# An order in one of these states may still fill: its outcome is not known yet.
UNRESOLVED = (
    OrderStatus.SENT,
    OrderStatus.UNKNOWN,
    OrderStatus.OPEN,
    OrderStatus.PARTIALLY_FILLED,
)
MAX_ATTEMPTS = 20  # per leg and purpose: a bound on ids, far above what a deadline allows


def client_order_id(position_id: uuid.UUID, leg: Leg, purpose: str, attempt: int = 1) -> str:
    """`fa-<32 hex>-<L|S>-<purpose>[attempt]`, at most 64 characters."""
    suffix = "" if attempt == 1 else str(attempt)
    return f"fa-{position_id.hex}-{leg.value}-{purpose}{suffix}"


@dataclass(frozen=True, slots=True)
class LegSpec:
    """Where one leg trades and the order sizes valid there."""

    leg: Leg
    venue: str
    symbol: str
    min_qty: Decimal
    qty_step: Decimal


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


class LegTrader:
    """Places and follows the orders of single legs for one strategy."""

    def __init__(
        self,
        strategy_name: str,
        executor: OrderExecution,
        exchange: Callable[[str], ExchangeClient],
        execution: ExecutionConfig,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._strategy = strategy_name
        self._executor = executor
        self._exchange = exchange
        self._execution = execution
        self._sleep = sleep
        self.monotonic = monotonic

    @property
    def executor(self) -> OrderExecution:
        return self._executor

    # ---------------------------------------------------------------- reading

    def records(self, position_id: uuid.UUID) -> list[OrderRecord]:
        return self._executor.journal.find(self._strategy, position_id=position_id)

    def leg_records(
        self, position_id: uuid.UUID, spec: LegSpec, purpose: str | None = None
    ) -> list[OrderRecord]:
        prefix = f"fa-{position_id.hex}-{spec.leg.value}-"
        return [
            r
            for r in self.records(position_id)
            if r.client_order_id.startswith(prefix)
            and (purpose is None or r.intent.purpose == purpose)
        ]

    def journal_held(self, position_id: uuid.UUID, spec: LegSpec) -> Decimal:
        """Our own fills on the leg: opening-side fills minus closing-side fills."""
        held = Decimal(0)
        for record in self.leg_records(position_id, spec):
            if record.intent.side is spec.leg.opening_side:
                held += record.filled_qty
            else:
                held -= record.filled_qty
        return held

    def venue_held(self, spec: LegSpec) -> Decimal:
        """The venue's position on the leg's side (negative: the venue holds the other side)."""
        for position in self._exchange(spec.venue).positions():
            if position.symbol == spec.symbol:
                return position.qty * spec.leg.sign
        return Decimal(0)

    def mark(self, spec: LegSpec) -> Decimal | None:
        """The leg's mid price now, or None if its venue cannot say."""
        try:
            return self._exchange(spec.venue).top_of_book(spec.symbol).mid
        except ExchangeError as exc:
            logger.warning("%s %s: no price: %s", spec.venue, spec.symbol, exc)
            return None

    def held(self, position_id: uuid.UUID, spec: LegSpec) -> tuple[Decimal, str]:
        """What the leg holds for sure, and a note when journal and venue disagree.

        A venue showing less than our fills is read twice (a venue's position endpoint may
        lag its fills); what it still lacks was taken by the venue (liquidation, ADL).
        """
        own = self.journal_held(position_id, spec)
        venue = self.venue_held(spec)
        if venue < own:
            self._sleep(self._execution.retry_interval_seconds)
            venue = self.venue_held(spec)
        note = ""
        if venue != own:
            note = (
                f"{spec.leg.label} leg: our fills say {qty_text(own)}, "
                f"{spec.venue} holds {qty_text(venue)}"
            )
        return min(own, max(venue, Decimal(0))), note

    # ---------------------------------------------------------------- placing

    def place(self, intent: OrderIntent, deadline: float) -> OrderRecord:
        """Send `intent` (once), retrying transient errors until `deadline`, then follow it
        until its outcome is known or the deadline passes."""
        while True:
            try:
                record = self._executor.submit(intent)
                break
            except TransientExchangeError as exc:
                if self.monotonic() >= deadline:
                    logger.warning("%s: giving up after transient errors: %s", intent, exc)
                    stored = self._executor.journal.get(intent.client_order_id)
                    assert stored is not None  # submit journals the intent before sending
                    return stored
                self._sleep(self._execution.retry_interval_seconds)
        return self.settle(record, deadline)

    def settle(self, record: OrderRecord, deadline: float) -> OrderRecord:
        """Refresh an order until the venue says what became of it, or `deadline` passes
        (a resting order is then cancelled, so that it cannot fill later)."""
        while is_unresolved(record):
            if self.monotonic() >= deadline:
                if record.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
                    record = self._safely(record, self._executor.cancel)
                return record
            self._sleep(self._execution.retry_interval_seconds)
            record = self._safely(record, self._executor.refresh)
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
            return self._executor.cancel(record.client_order_id)
        return record

    # ---------------------------------------------------------------- shrinking

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
            earlier = self.leg_records(position_id, spec, purpose)
            for record in earlier:
                record = self.settle(self.abandon_unsent(record), deadline)
                if is_unresolved(record):
                    return LegResult(
                        spec.leg,
                        self.journal_held(position_id, spec),
                        False,
                        f"outcome of {record.client_order_id} unknown ({record.status})",
                        tuple(placed),
                        unknown=True,
                    )
            try:
                held, note = self.held(position_id, spec)
            except ExchangeError as exc:
                held, note = self.journal_held(position_id, spec), ""
                last_error = f"{spec.venue} positions unavailable: {exc}"
                if self.monotonic() >= deadline:
                    return LegResult(spec.leg, held, False, last_error, tuple(placed))
                self._sleep(self._execution.retry_interval_seconds)
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
            if attempt > MAX_ATTEMPTS or self.monotonic() >= deadline:
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
                self._sleep(self._execution.retry_interval_seconds)

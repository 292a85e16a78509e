"""The two component kits: `PostgresKit` (production) and `InMemoryKit` (tests, backtests).

Both implement `kit.ComponentKit`; every part is built on first use and shared afterwards
(one position manager, one event sink ... per kit). A kit serves one strategy instance: the
runtime builds a kit per task with the venue clients the strategy's config names.

How the legs run is derived from the clock unless a runner is given: a `ManualClock` moves
only when code waits on it, so legs run one after the other (deterministic backtests);
any other clock runs them in two threads (see `concurrency.py`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from functools import cached_property
from types import MappingProxyType

from sqlalchemy import Engine

from core.clock import Clock, ManualClock
from exchanges.base import ExchangeClient
from funding_service.store import PostgresFundingRateSource
from strategies.components.base_components import (
    ComponentMissingError,
    EventSink,
    FundingPaymentStore,
    FundingRateSource,
    OrderExecution,
    PositionManager,
    StateManager,
)
from strategies.components.concurrency import LegRunner, SequentialLegRunner, ThreadedLegRunner
from strategies.components.event_sink import InMemoryEventSink, PostgresEventSink
from strategies.components.exposure_guard import NoNewPositions
from strategies.components.funding_payments import (
    InMemoryFundingPaymentStore,
    PostgresFundingPaymentStore,
)
from strategies.components.funding_rates import InMemoryFundingRateSource
from strategies.components.order_executor import OrderExecutor
from strategies.components.order_journal import InMemoryOrderJournal, PostgresOrderJournal
from strategies.components.order_types import venue_ids_of
from strategies.components.position_manager import (
    InMemoryPositionManager,
    PostgresPositionManager,
)
from strategies.components.sessions import SessionScope, engine_scope
from strategies.components.state_manager import InMemoryStateManager, PostgresStateManager
from strategies.components.transfer_types import TransferManager
from strategies.components.transfers_unavailable import UnavailableTransferManager

NO_TRANSFER_MANAGER = "no fund-transfer manager was given to this kit"


class _Venues:
    """The venue clients of a kit (a read-only copy: nothing swaps a venue out later)."""

    def __init__(self, clock: Clock, exchanges: Mapping[str, ExchangeClient] | None) -> None:
        self._clock = clock
        self._exchanges = MappingProxyType(dict(exchanges or {}))

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def exchanges(self) -> Mapping[str, ExchangeClient]:
        return self._exchanges

    def exchange(self, venue: str) -> ExchangeClient:
        try:
            return self._exchanges[venue]
        except KeyError:
            known = ", ".join(sorted(self._exchanges)) or "none"
            raise ComponentMissingError(
                f"no exchange client for venue {venue!r} (configured venues: {known})"
            ) from None


def _runner_for(clock: Clock, given: LegRunner | None) -> LegRunner:
    if given is not None:
        return given
    return SequentialLegRunner() if isinstance(clock, ManualClock) else ThreadedLegRunner()


class PostgresKit(_Venues):
    """Every part persists in PostgreSQL through `engine`, one transaction per call.

    `transfers` builds the fund-transfer manager when a strategy first asks for it (the
    runtime passes its own, built once per process); without it the kit's manager refuses.
    With `no_new_exposure` (why: paused) the position manager opens nothing
    (`exposure_guard.NoNewPositions`).
    """

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        exchanges: Mapping[str, ExchangeClient] | None = None,
        *,
        transfers: Callable[[], TransferManager] | None = None,
        leg_runner: LegRunner | None = None,
        no_new_exposure: str | None = None,
    ) -> None:
        super().__init__(clock, exchanges)
        self.engine = engine
        self._transfers = transfers
        self._leg_runner = leg_runner
        self._no_new_exposure = no_new_exposure

    @cached_property
    def _scope(self) -> SessionScope:
        return engine_scope(self.engine)

    @cached_property
    def _positions(self) -> PositionManager:
        positions = PostgresPositionManager(self._scope, self.clock)
        if self._no_new_exposure is None:
            return positions
        return NoNewPositions(positions, self._no_new_exposure)

    @cached_property
    def _state(self) -> StateManager:
        return PostgresStateManager(self._scope, self.clock)

    @cached_property
    def _events(self) -> EventSink:
        return PostgresEventSink(self._scope, self.clock)

    @cached_property
    def _orders(self) -> OrderExecution:
        return OrderExecutor(
            PostgresOrderJournal(self._scope, self.clock, venue_ids_of(self.exchanges)),
            self.exchanges,
        )

    @cached_property
    def _funding_rates(self) -> FundingRateSource:
        return PostgresFundingRateSource(self.engine)

    @cached_property
    def _funding_payments(self) -> FundingPaymentStore:
        return PostgresFundingPaymentStore(self._scope)

    @cached_property
    def _transfer_manager(self) -> TransferManager:
        if self._transfers is None:
            return UnavailableTransferManager(NO_TRANSFER_MANAGER)
        return self._transfers()

    def positions(self) -> PositionManager:
        return self._positions

    def state(self) -> StateManager:
        return self._state

    def events(self) -> EventSink:
        return self._events

    def orders(self) -> OrderExecution:
        return self._orders

    def funding_rates(self) -> FundingRateSource:
        return self._funding_rates

    def funding_payments(self) -> FundingPaymentStore:
        return self._funding_payments

    def transfers(self) -> TransferManager:
        return self._transfer_manager

    def leg_runner(self) -> LegRunner:
        return self._runner

    @cached_property
    def _runner(self) -> LegRunner:
        return _runner_for(self.clock, self._leg_runner)


class InMemoryKit(_Venues):
    """The in-memory twins, sharing one audit trail; no database is reachable from it.

    `funding_rates` is the rate source to read (default: an empty in-memory one that a
    test or backtest fills); `transfers` the fund-transfer manager (default: refuses);
    `position_ids` makes the positions' ids (default: random; a backtest passes
    `sequential_ids` so that a run is the same every time).
    """

    def __init__(
        self,
        clock: Clock,
        exchanges: Mapping[str, ExchangeClient] | None = None,
        *,
        funding_rates: FundingRateSource | None = None,
        transfers: TransferManager | None = None,
        leg_runner: LegRunner | None = None,
        position_ids: Callable[[], uuid.UUID] = uuid.uuid4,
    ) -> None:
        super().__init__(clock, exchanges)
        self._position_ids = position_ids
        self._rates = funding_rates or InMemoryFundingRateSource()
        self._transfer_manager: TransferManager = transfers or UnavailableTransferManager(
            NO_TRANSFER_MANAGER
        )
        self._leg_runner = leg_runner

    @cached_property
    def _events(self) -> InMemoryEventSink:
        return InMemoryEventSink(self.clock)

    @cached_property
    def _positions(self) -> PositionManager:
        return InMemoryPositionManager(self.clock, self._events, self._position_ids)

    @cached_property
    def _state(self) -> StateManager:
        return InMemoryStateManager(self.clock)

    @cached_property
    def _orders(self) -> OrderExecution:
        return OrderExecutor(InMemoryOrderJournal(venue_ids_of(self.exchanges)), self.exchanges)

    @cached_property
    def _funding_payments(self) -> FundingPaymentStore:
        return InMemoryFundingPaymentStore()

    def positions(self) -> PositionManager:
        return self._positions

    def state(self) -> StateManager:
        return self._state

    def events(self) -> EventSink:
        return self._events

    def orders(self) -> OrderExecution:
        return self._orders

    def funding_rates(self) -> FundingRateSource:
        return self._rates

    def funding_payments(self) -> FundingPaymentStore:
        return self._funding_payments

    def transfers(self) -> TransferManager:
        return self._transfer_manager

    def leg_runner(self) -> LegRunner:
        return self._runner

    @cached_property
    def _runner(self) -> LegRunner:
        return _runner_for(self.clock, self._leg_runner)

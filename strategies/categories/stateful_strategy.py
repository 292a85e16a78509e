"""Level 2: `StatefulStrategy`, for complex multi-venue strategies (funding arbitrage).

No enforced flow: the implementation writes `run_cycle` (and any phases it exposes, e.g.
monitor / rebalance / open / transfers) itself. What this class gives it:

- the components it composes, injected by the factory and checked at construction
  (`required_components`, `required_venues`): a missing one is a `ComponentMissingError`
  naming it, before any cycle runs;
- accessors for them: `position_manager`, `state_manager`, `event_sink`, `clock`,
  `exchange(venue)`, `transfer_manager`;
- shortcuts scoped to this strategy's name: `load_state`, `update_state`, `record_event`;
- `run_phase(phase, now, body)`: runs one phase so that an exception becomes a failed
  `CycleResult` (logged with the strategy's name) instead of escaping to the caller's loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Self

from core.clock import Clock, ensure_utc
from exchanges.base import ExchangeClient
from strategies.base_strategy import BaseStrategy, ConfigT, CycleResult
from strategies.components.base_components import (
    COMPONENT_NAMES,
    ComponentMissingError,
    EventSink,
    PositionManager,
    StateManager,
    StateMutation,
    StrategyComponents,
    VersionedState,
)
from strategies.components.transfer_types import TransferManager


class StatefulStrategy(BaseStrategy[ConfigT]):
    """Subclass, set `config_model`, implement `run_cycle` (and `required_venues` if any)."""

    # Components the strategy cannot work without; override to add `transfer_manager`.
    required_components: ClassVar[frozenset[str]] = frozenset(
        {"position_manager", "state_manager", "event_sink"}
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        unknown = sorted(set(cls.required_components) - set(COMPONENT_NAMES))
        if unknown:
            raise TypeError(
                f"{cls.__name__}.required_components names unknown components {unknown}; "
                f"known: {', '.join(COMPONENT_NAMES)}"
            )

    def __init__(self, config: ConfigT, components: StrategyComponents) -> None:
        super().__init__(config)
        missing = sorted(c for c in self.required_components if getattr(components, c) is None)
        if missing:
            raise ComponentMissingError(
                f"strategy {self.name} ({type(self).__name__}) needs components that were "
                f"not provided: {', '.join(missing)}"
            )
        for venue in self.required_venues():
            try:
                components.exchange(venue)
            except ComponentMissingError as exc:
                raise ComponentMissingError(f"strategy {self.name}: {exc}") from None
        self._components = components

    @classmethod
    def create(cls, config: ConfigT, components: StrategyComponents) -> Self:
        return cls(config, components)

    def required_venues(self) -> Sequence[str]:
        """Venues (names in `components.exchanges`) this config trades on. Default: none."""
        return ()

    # -- component accessors

    @property
    def components(self) -> StrategyComponents:
        return self._components

    @property
    def clock(self) -> Clock:
        return self._components.clock

    @property
    def position_manager(self) -> PositionManager:
        manager = self._components.position_manager
        if manager is None:
            raise self._missing("position_manager")
        return manager

    @property
    def state_manager(self) -> StateManager:
        manager = self._components.state_manager
        if manager is None:
            raise self._missing("state_manager")
        return manager

    @property
    def event_sink(self) -> EventSink:
        sink = self._components.event_sink
        if sink is None:
            raise self._missing("event_sink")
        return sink

    @property
    def transfer_manager(self) -> TransferManager:
        """The fund-transfer component."""
        manager = self._components.transfer_manager
        if manager is None:
            raise self._missing("transfer_manager")
        return manager

    def _missing(self, component: str) -> ComponentMissingError:
        return ComponentMissingError(
            f"strategy {self.name}: component {component!r} was not provided"
        )

    def exchange(self, venue: str) -> ExchangeClient:
        """The client for `venue`; `ComponentMissingError` lists the configured ones."""
        return self._components.exchange(venue)

    # -- shortcuts scoped to this strategy

    def load_state(self) -> VersionedState:
        return self.state_manager.load(self.name)

    def update_state(self, mutate: StateMutation, retries: int = 5) -> VersionedState:
        """Read-modify-write this strategy's state with optimistic retries."""
        return self.state_manager.update(self.name, mutate, retries)

    def record_event(
        self,
        kind: str,
        payload: Mapping[str, Any] | None = None,
        entity_type: str = "strategy",
        entity_id: object | None = None,
    ) -> None:
        """Append to the audit trail under this strategy's name."""
        self.event_sink.record(
            kind, entity_type, entity_id if entity_id is not None else self.name, self.name, payload
        )

    # -- lifecycle (override and call super() to add work)

    def start(self) -> None:
        """Record that the strategy started."""
        if self._components.event_sink is not None:
            self.record_event("strategy.started", {"type": self.config.type})

    def stop(self) -> None:
        """Record that the strategy stopped."""
        if self._components.event_sink is not None:
            self.record_event("strategy.stopped", {"type": self.config.type})

    # -- guarded execution

    def run_phase(
        self, phase: str, now: datetime, body: Callable[[], Sequence[object]]
    ) -> CycleResult:
        """Run `body` (returning what it decided/did) as one guarded unit of work.

        An exception is logged with the strategy's name and `phase` and returned as a failed
        result; it never reaches the caller. Each phase can run on its own (a beat entry per
        phase) or several from `run_cycle`.
        """
        now = ensure_utc(now)
        try:
            done = tuple(body())
        except Exception as exc:
            return self._failed_cycle(phase, exc, now)
        return CycleResult(self.name, now, actions=done)

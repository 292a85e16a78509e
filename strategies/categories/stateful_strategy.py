"""Level 2: `StatefulStrategy`, for complex multi-venue strategies (funding arbitrage).

No enforced flow: the implementation writes `run_cycle` (and any phases it exposes, e.g.
monitor / rebalance / open / transfers) itself. What this class gives it:

- its components as a typed bundle, the category's second type parameter:
  `StatefulComponents` (clock, the configured venues' clients, positions, state, audit) or
  a subclass with more. The strategy builds it from the kit in `create(config, kit)`; a
  venue the config names but the kit lacks is a `ComponentMissingError` naming it, before
  any cycle runs;
- accessors: `clock`, `position_manager`, `state_manager`, `audit`, `exchange(venue)`;
- shortcuts scoped to this strategy's name: `load_state`, `update_state`, `record_event`;
- `run_phase(phase, now, body)`: runs one phase so that an exception becomes a failed
  `CycleResult` (logged with the strategy's name) instead of escaping to the caller's loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from core.clock import Clock, ensure_utc
from exchanges.base import ExchangeClient
from strategies.base_strategy import BaseStrategy, ConfigT, CycleResult, StrategyConfig
from strategies.components.base_components import (
    ComponentMissingError,
    PositionManager,
    StateManager,
    StateMutation,
    StrategyAudit,
    VenueClients,
    VersionedState,
)
from strategies.components.kit import ComponentKit


def configured_venues(kit: ComponentKit, config: StrategyConfig) -> VenueClients:
    """The client of every venue the config trades on (`venue_accounts()`), by name."""
    clients: dict[str, ExchangeClient] = {}
    for venue, _account in config.venue_accounts():
        try:
            clients[venue] = kit.exchange(venue)
        except ComponentMissingError as exc:
            raise ComponentMissingError(f"strategy {config.name}: {exc}") from None
    return VenueClients(config.name, clients)


@dataclass(frozen=True, slots=True)
class StatefulComponents:
    """What every stateful strategy gets."""

    clock: Clock
    exchanges: VenueClients  # the configured venues' clients, by venue name
    positions: PositionManager
    state: StateManager
    audit: StrategyAudit

    @classmethod
    def from_kit(cls, kit: ComponentKit, config: StrategyConfig) -> StatefulComponents:
        return StatefulComponents(
            kit.clock,
            configured_venues(kit, config),
            kit.positions(),
            kit.state(),
            StrategyAudit(kit.events(), config.name),
        )


ComponentsT = TypeVar("ComponentsT", bound=StatefulComponents)


class StatefulStrategy(BaseStrategy[ConfigT], Generic[ConfigT, ComponentsT]):
    """Subclass with your config and components types, set `config_model`, write `create`
    and implement `run_cycle`."""

    def __init__(self, config: ConfigT, components: ComponentsT) -> None:
        super().__init__(config)
        self._components = components

    # -- component accessors

    @property
    def components(self) -> ComponentsT:
        return self._components

    @property
    def clock(self) -> Clock:
        return self._components.clock

    @property
    def position_manager(self) -> PositionManager:
        return self._components.positions

    @property
    def state_manager(self) -> StateManager:
        return self._components.state

    @property
    def audit(self) -> StrategyAudit:
        return self._components.audit

    def exchange(self, venue: str) -> ExchangeClient:
        """The client for `venue`; `ComponentMissingError` lists the configured ones."""
        return self._components.exchanges.client(venue)

    # -- shortcuts scoped to this strategy

    def load_state(self) -> VersionedState:
        return self.state_manager.load(self.name)

    def update_state(self, mutate: StateMutation, retries: int = 5) -> VersionedState:
        """Read-modify-write this strategy's state with optimistic retries."""
        return self.state_manager.update(self.name, mutate, retries)

    def record_event(self, kind: str, payload: Mapping[str, Any] | None = None) -> None:
        """Append to the audit trail under this strategy's name."""
        self.audit.strategy(kind, payload)

    # -- lifecycle (override and call super() to add work)

    def start(self) -> None:
        """Record that the strategy started."""
        self.record_event("strategy.started", {"type": self.config.type})

    def stop(self) -> None:
        """Record that the strategy stopped."""
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

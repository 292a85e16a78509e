"""`GridStrategy`: the classic perp-DEX grid on the `StatelessStrategy` template.

Each cycle (`run_cycle(now)`, final in the category) runs the three hooks:

- `fetch_market`: the stored state (or one rebuilt from the order journal), the journal's
  record of every order the state waits on, refreshed from the venue, then the book,
  position and open orders, the instrument and the active position records;
- `decide`: `planner.plan_cycle` — pure, returns actions as data;
- `execute`: the new state first (optimistic version check: a cycle that raced another one
  fails before it sends anything), then events, cancels and orders through the
  `OrderExecution` component (journaled before sending, looked up before any resend), then
  the position record.

Nothing lives in the instance between cycles, so a beat-fired Celery task can build a fresh
strategy for every cycle. See docs/grid.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from core.enums import OrderStatus
from core.errors import ConfigError
from core.market import Instrument
from strategies.categories.stateless_strategy import (
    Action,
    ActionExecutionError,
    MarketSnapshot,
    StatelessComponents,
    StatelessStrategy,
    StatelessStrategyConfig,
    configured_venue,
)
from strategies.components.base_components import (
    ActivePositionExistsError,
    OrderExecution,
    OrderRecord,
    PositionManager,
    StateManager,
    StrategyAudit,
)
from strategies.components.kit import ComponentKit
from strategies.implementations.grid.actions import (
    CancelGridOrder,
    ClosePositionRecord,
    CommitGridState,
    GridSnapshot,
    OpenPositionRecord,
    RecordGridEvent,
    SubmitGridOrder,
    UpdatePositionRecord,
)
from strategies.implementations.grid.config import GridConfig
from strategies.implementations.grid.models import GridState, LevelStage
from strategies.implementations.grid.planner import plan_cycle
from strategies.implementations.grid.recovery import recover_state

_CANCELLABLE = (OrderStatus.INTENT, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)


@dataclass(frozen=True, slots=True)
class StateSaved:
    """What executing `CommitGridState` returned: the state's new version."""

    version: int


@dataclass(frozen=True, slots=True)
class GridComponents(StatelessComponents):
    """What the grid needs beyond the venue and the clock."""

    state: StateManager  # the grid's state (levels, run id), versioned
    orders: OrderExecution  # journal-first order sending
    positions: PositionManager  # the position record of the grid's exposure
    audit: StrategyAudit

    @classmethod
    def from_kit(cls, kit: ComponentKit, config: StatelessStrategyConfig) -> GridComponents:
        return GridComponents(
            kit.clock,
            configured_venue(kit, config),
            kit.state(),
            kit.orders(),
            kit.positions(),
            StrategyAudit(kit.events(), config.name),
        )


class GridStrategy(StatelessStrategy[GridConfig, GridComponents]):
    config_model = GridConfig

    @classmethod
    def create(cls, config: GridConfig, kit: ComponentKit) -> Self:
        return cls(config, GridComponents.from_kit(kit, config))

    def __init__(self, config: GridConfig, components: GridComponents) -> None:
        super().__init__(config, components)
        # A grid on the wrong sub-account would treat another strategy's position as its own
        # (and close it on a stop loss): refuse to start rather than guess.
        account = getattr(self.exchange, "account", None)
        if account is not None and account != config.account:
            raise ConfigError(
                f"strategy {self.name}: account is {config.account!r} but the {config.venue} "
                f"client given to it trades account {account!r}"
            )

    @property
    def state_manager(self) -> StateManager:
        return self.components.state

    @property
    def orders(self) -> OrderExecution:
        return self.components.orders

    # ------------------------------------------------------------------ hooks

    def fetch_market(self, now: datetime) -> GridSnapshot:
        stored = self.state_manager.load(self.name)
        state = GridState.from_state(stored.data) if stored.version else None
        records: dict[str, OrderRecord] = {}
        recovered = False
        if state is None:
            found = recover_state(self._refreshed(self.orders.journal.find(self.name)), now)
            if found is not None:
                state, records = found
                recovered = True
        if state is not None:
            journal = self.orders.journal
            tracked = [journal.get(i) for i in state.tracked_ids() if i not in records]
            known = [record for record in tracked if record is not None]
            records |= {r.client_order_id: r for r in self._refreshed(known)}
        # Read after the refresh: a fill between the two then shows in the records first,
        # which the planner's coverage check tolerates (see planner.py).
        market = super().fetch_market(now)
        return GridSnapshot(
            venue=market.venue,
            symbol=market.symbol,
            book=market.book,
            position=market.position,
            open_orders=market.open_orders,
            taken_at=market.taken_at,
            instrument=self._instrument(),
            state=state,
            version=stored.version,
            records=records,
            position_records=tuple(
                self.components.positions.find_active(self.name, self.config.symbol)
            ),
            recovered=recovered,
        )

    def decide(self, snapshot: MarketSnapshot, now: datetime) -> Sequence[Action]:
        if not isinstance(snapshot, GridSnapshot):
            raise TypeError(f"the grid decides on a GridSnapshot, got {type(snapshot).__name__}")
        return plan_cycle(self.name, self.config, snapshot, now)

    def execute(self, actions: Sequence[Action], now: datetime) -> Sequence[object]:
        done: list[object] = []
        for index, action in enumerate(actions):
            try:
                result = self._carry_out(action)
            except Exception as exc:
                raise ActionExecutionError(index, action, exc, done) from exc
            if result is not None:
                done.append(result)
        return done

    def _carry_out(self, action: Action) -> object | None:
        if isinstance(action, CommitGridState):
            version = self.state_manager.save(
                self.name, action.state.to_state(), action.expected_version
            )
            return StateSaved(version)
        if isinstance(action, SubmitGridOrder):
            return self.orders.submit(action.intent)
        if isinstance(action, CancelGridOrder):
            return self.orders.cancel(action.client_order_id)
        if isinstance(action, RecordGridEvent):
            self._record_event(action.kind, dict(action.payload))
            return None
        return self._track(action)

    def _track(self, action: Action) -> object | None:
        positions = self.components.positions
        if isinstance(action, OpenPositionRecord):
            try:
                record = positions.open(action.position)
            except ActivePositionExistsError as exc:
                if exc.existing_id is None:
                    raise
                return positions.update(exc.existing_id, action.changes)
            return positions.update(record.id, action.changes)
        if isinstance(action, UpdatePositionRecord):
            return positions.update(action.position_id, action.changes)
        if isinstance(action, ClosePositionRecord):
            return positions.close(action.position_id, action.reason, action.realized_pnl)
        raise TypeError(f"the grid cannot carry out {type(action).__name__}")

    # ------------------------------------------------------------------ lifecycle

    def on_start(self) -> None:
        """Check the venue serves the symbol, and store a state rebuilt from the journal.

        Rebuilding also happens in any cycle that finds no state; doing it here makes the
        operator's `start` report what was recovered before trading resumes.
        """
        now = self.clock.now()
        snapshot = self.fetch_market(now)
        if snapshot.recovered and snapshot.state is not None:
            self.state_manager.save(self.name, snapshot.state.to_state(), snapshot.version)
        state = snapshot.state
        self._record_event(
            "grid.recovered" if snapshot.recovered else "grid.start",
            {
                "run_id": state.run_id if state else None,
                "levels": len(state.levels) if state else 0,
                "position_qty": snapshot.position_qty,
            },
        )

    def on_stop(self) -> None:
        """Cancel resting open orders, so the grid adds no exposure while nobody runs it.

        Take-profit orders stay: they are reduce-only and only lower the risk. The next
        cycle (after a restart) folds the cancellations in and carries on.
        """
        stored = self.state_manager.load(self.name)
        if not stored.version:
            return
        state = GridState.from_state(stored.data)
        cancelled = []
        for level in state.levels:
            if level.stage is not LevelStage.OPENING:
                continue
            client_order_id = level.open_id(state.run_id)
            record = self.orders.journal.get(client_order_id)
            if record is not None and record.status in _CANCELLABLE:
                self.orders.cancel(client_order_id)
                cancelled.append(client_order_id)
        self._record_event("grid.stop", {"cancelled": cancelled})

    # ------------------------------------------------------------------ reporting

    def report(self) -> dict[str, Any]:
        """A JSON-able summary of the stored state (for status commands and the demo)."""
        stored = self.state_manager.load(self.name)
        if not stored.version:
            return {"strategy": self.name, "status": "not started"}
        state = GridState.from_state(stored.data)
        stages = [level.stage.value for level in state.levels]
        return {
            "strategy": self.name,
            "run_id": state.run_id,
            "status": state.status.value,
            "stop_reason": state.stop_reason,
            "paused": state.paused,
            "closing": state.closing,
            "levels": {stage.value: stages.count(stage.value) for stage in LevelStage},
            "take_profits": state.totals.take_profits,
            "realized_pnl": str(state.totals.realized_pnl),
            "fees": str(state.totals.fees),
        }

    # ------------------------------------------------------------------ helpers

    def _refreshed(self, records: Sequence[OrderRecord]) -> list[OrderRecord]:
        """Records brought up to date with the venue where they may have changed there."""
        return [
            self.orders.refresh(record.client_order_id)
            if not record.is_terminal and record.status is not OrderStatus.INTENT
            else record
            for record in records
        ]

    def _instrument(self) -> Instrument:
        for instrument in self.exchange.instruments():
            if instrument.symbol == self.config.symbol:
                return instrument
        raise ConfigError(
            f"strategy {self.name}: venue {self.config.venue} has no {self.config.symbol} market"
        )

    def _record_event(self, kind: str, payload: dict[str, Any]) -> None:
        self.components.audit.strategy(kind, payload)

"""A stateful strategy for orchestration tests: each phase records itself and sleeps.

It trades nothing; it lets tests see when phases of which strategy ran and for how long.
With `opens: true` every phase also tries to open a position (a row only, no orders) and
records what happened, so tests can see which phases may add exposure. With `legs: true`
its `open` records a long leg, waits `phase_seconds`, then records the short leg: the window
between two legs in which a broker drop or a kill must not end the task.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict

from strategies.base_strategy import CycleResult, StrategyConfig
from strategies.categories.stateful_strategy import StatefulComponents, StatefulStrategy
from strategies.components.base_components import NewExposureRefusedError, NewPosition
from strategies.components.kit import ComponentKit
from strategies.factory import default_registry


class ProbeIntervals(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    monitor_seconds: float = 2.0
    rebalance_seconds: float = 3.0
    open_seconds: float = 4.0


class ProbeConfig(StrategyConfig):
    type: Literal["probe"] = "probe"
    enabled: bool = True
    phase_seconds: float = 0.5
    opens: bool = False
    legs: bool = False
    intervals: ProbeIntervals = ProbeIntervals()


class ProbeStrategy(StatefulStrategy[ProbeConfig, StatefulComponents]):
    config_model = ProbeConfig

    @classmethod
    def create(cls, config: ProbeConfig, kit: ComponentKit) -> Self:
        return cls(config, StatefulComponents.from_kit(kit, config))

    def _phase(self, phase: str, now: datetime, **payload: object) -> CycleResult:
        if self.config.opens:
            payload["opened"] = self._try_to_open()
        self.record_event(f"probe.{phase}", {"at": now.isoformat(), **payload})
        time.sleep(self.config.phase_seconds)
        return CycleResult(strategy_name=self.name, at=now, actions=(phase,))

    def _try_to_open(self) -> str:
        try:
            position = self.position_manager.open(
                NewPosition(
                    strategy_name=self.name,
                    symbol="PROBE",
                    long_dex="probe-long",
                    short_dex=f"probe-{uuid.uuid4().hex[:8]}",
                    size_usd=Decimal(1),
                )
            )
        except NewExposureRefusedError as exc:
            return f"refused: {exc}"
        return f"opened {position.id}"

    def monitor(self, now: datetime) -> CycleResult:
        return self._phase("monitor", now)

    def rebalance(
        self, now: datetime, position_id: uuid.UUID | None = None, reason: str | None = None
    ) -> CycleResult:
        return self._phase("rebalance", now, reason=reason, position=str(position_id))

    def open_positions(self, now: datetime) -> CycleResult:
        if self.config.legs:
            self.record_event("probe.leg.long", {"at": now.isoformat()})
            time.sleep(self.config.phase_seconds)
            self.record_event("probe.leg.short", {"at": now.isoformat()})
        return self._phase("open", now)

    def process_transfers(self, now: datetime) -> CycleResult:
        return self._phase("transfers", now)

    def close_position(self, position_id: uuid.UUID, reason: str, now: datetime) -> CycleResult:
        return self._phase("close", now, reason=reason, position=str(position_id))

    def run_cycle(self, now: datetime) -> CycleResult:
        for phase in (self.monitor, self.rebalance, self.open_positions):
            phase(now)
        return CycleResult(strategy_name=self.name, at=now, actions=("cycle",))


if "probe" not in default_registry.known_types():
    default_registry.register(ProbeStrategy)

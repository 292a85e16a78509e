"""Beat entries, one set per enabled strategy instance (DESIGN.md §7).

Stateful strategies get `<name>-monitor`, `<name>-rebalance`, `<name>-open` (and
`<name>-transfers` when they configure a transfers interval); stateless ones get
`<name>-cycle`. Stateful strategies also get `<name>-watchdog`, the unhedged watchdog
(every `PERPBOT_WATCHDOG_SECONDS`). Every entry expires after its own interval, so a backlog
of ticks cannot pile up behind a slow worker; a tick that starts while another phase holds
the strategy's lock is deferred and run by the holder (`tasks/phase_runner.py`), not dropped.
Plus `funding-collect`, `transfers-sweep`, `runs-sweep` and `breakers-check` (circuit breakers
and alerts, `strategies/breaker_check.py`). Exactly one beat process must run;
the tasks fence themselves with the strategy lock anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from celery.beat import PersistentScheduler

from strategies.base_strategy import StrategyConfig

STATEFUL_PHASES = (
    ("monitor", "perpbot.strategy.monitor", "monitor_seconds"),
    ("rebalance", "perpbot.strategy.rebalance", "rebalance_seconds"),
    ("open", "perpbot.strategy.open", "open_seconds"),
    ("transfers", "perpbot.strategy.transfers", "transfers_seconds"),
)
STATELESS_PHASES = (("cycle", "perpbot.strategy.cycle", "cycle_seconds"),)
FUNDING_COLLECT_TASK = "perpbot.market.collect_funding"
TRANSFERS_SWEEP_TASK = "perpbot.transfers.sweep"
BREAKERS_CHECK_TASK = "perpbot.ops.check_breakers"
WATCHDOG_TASK = "perpbot.strategy.watchdog"
RUNS_SWEEP_TASK = "perpbot.maintenance.sweep_runs"


def _entry(task: str, seconds: float, args: tuple[Any, ...], queue: str) -> dict[str, Any]:
    return {
        "task": task,
        "schedule": timedelta(seconds=seconds),
        "args": args,
        "options": {"queue": queue, "expires": seconds},
    }


def build_schedule(
    configs: Mapping[str, StrategyConfig],
    stateful: Mapping[str, bool],
    funding_collect_seconds: float = 60.0,
    transfers_sweep_seconds: float | None = 30.0,
    breakers_check_seconds: float | None = None,
    watchdog_seconds: float | None = None,
    runs_sweep_seconds: float | None = None,
) -> dict[str, dict[str, Any]]:
    """Beat entries for `configs` (by name); `stateful[name]` says which phases apply."""
    schedule: dict[str, dict[str, Any]] = {}
    for name in sorted(configs):
        config = configs[name]
        if not getattr(config, "enabled", True):
            continue
        intervals = getattr(config, "intervals", None)
        phases = STATEFUL_PHASES if stateful[name] else STATELESS_PHASES
        for phase, task, field in phases:
            seconds = getattr(intervals, field, None) if intervals is not None else None
            if seconds is None:
                continue
            schedule[f"{name}-{phase}"] = _entry(task, float(seconds), (name,), "strategy")
        if stateful[name] and watchdog_seconds:
            schedule[f"{name}-watchdog"] = _entry(
                WATCHDOG_TASK, watchdog_seconds, (name,), "strategy"
            )
    schedule["funding-collect"] = _entry(
        FUNDING_COLLECT_TASK, funding_collect_seconds, (), "market"
    )
    if transfers_sweep_seconds is not None:
        schedule["transfers-sweep"] = _entry(
            TRANSFERS_SWEEP_TASK, transfers_sweep_seconds, (), "transfers"
        )
    if breakers_check_seconds is not None:
        schedule["breakers-check"] = _entry(
            BREAKERS_CHECK_TASK, breakers_check_seconds, (), "market"
        )
    if runs_sweep_seconds is not None:
        schedule["runs-sweep"] = _entry(RUNS_SWEEP_TASK, runs_sweep_seconds, (), "default")
    return schedule


def schedule_from_runtime() -> dict[str, dict[str, Any]]:
    """The schedule for the strategies configured in this deployment (celeryconfig uses it)."""
    from core.settings import get_settings
    from strategies.runtime import get_runtime

    runtime = get_runtime()
    settings = get_settings()
    configs = runtime.configs
    return build_schedule(
        configs,
        {name: runtime.is_stateful(name) for name in configs},
        funding_collect_seconds=settings.funding_collect_seconds,
        transfers_sweep_seconds=settings.transfers_sweep_seconds,
        breakers_check_seconds=runtime.ops_config.breakers.check_seconds,
        watchdog_seconds=settings.watchdog_seconds,
        runs_sweep_seconds=settings.runs_sweep_seconds,
    )


class PerpbotScheduler(PersistentScheduler):
    """Beat's scheduler with the entries built from the strategy configs at beat start-up
    (not at import, so workers never need to read beat's view of the configs)."""

    def setup_schedule(self) -> None:
        self.app.conf.beat_schedule = schedule_from_runtime()
        super().setup_schedule()

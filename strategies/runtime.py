"""The composition root: settings -> engine, clock, venues -> components -> strategy.

Celery tasks, the in-process runner (`trading_bot.py run`) and the demo all build strategies
here, so a strategy is wired the same way wherever it runs. Building is cheap and happens per
task: a strategy instance holds nothing that is not in PostgreSQL.

The fund-transfer manager is built here too, once per process, and nowhere else: strategies
get it injected, tasks and the CLI ask the runtime for it. How its steps are enqueued is
injected (`step_dispatcher`, Celery's from `tasks/transfer_dispatch.py`), so nothing here
imports the task layer.

A strategy that may take no new exposure (paused, or halted by a circuit breaker or an
operator: `db/repositories/halts.py`) is built guarded: its venue
clients send only reduce-only orders and its position manager opens nothing, so whatever
phase runs can close, reduce, monitor and reconcile but never open (`build(no_new_exposure=)`;
why it may not is `exposure_block(name)`). `halt(...)` trips a halt and alerts about it.

Alerts leave through `runtime.alerts` (an `AlertSink`, `core/alerts.py`): callers build an
`Alert` and never know how it is delivered.

Strategy configs are YAML files: `PERPBOT_STRATEGIES` names a directory (every `*.yaml` in
it, one strategy per file) or a single file; the default is `configs/strategies/`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.alerts import Alert, AlertKind, AlertSeverity, AlertSink, LogAlertSink
from core.clock import Clock, clock_from_settings
from core.errors import ConfigError
from core.settings import Settings, get_settings
from db.deployment import check_deployment_mode
from db.engine import engine_for
from db.repositories.halts import HaltRecord, HaltRepository
from db.repositories.runs import ControlRepository
from exchanges.base import ExchangeClient
from exchanges.reduce_only import reduce_only
from exchanges.registry import VenueConfig, build_exchange
from strategies.base_strategy import BaseStrategy, StrategyConfig
from strategies.categories.stateful_strategy import StatefulStrategy
from strategies.components.kits import PostgresKit
from strategies.components.transfer_types import StepDispatcher, TransferManager
from strategies.components.transfers_unavailable import (
    LIVE_MODE_REASON,
    UnavailableTransferManager,
)
from strategies.factory import build_strategy, default_registry, load_strategy_config

# Phases whose purpose is opening positions: a stateful strategy's `open`, and a whole
# `cycle` (which opens, for every strategy). While a strategy may take no new exposure they
# do not run at all; every other phase runs guarded (see `Runtime.build`).
OPENING_PHASES = frozenset({"open", "cycle"})


@dataclass(frozen=True, slots=True)
class VenueAccount:
    venue: str
    account: str = "main"


def venue_accounts(config: StrategyConfig) -> list[VenueAccount]:
    """The (venue, account) pairs a strategy trades on, as its config declares them."""
    return [VenueAccount(venue, account) for venue, account in config.venue_accounts()]


def strategy_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
    if path.is_file():
        return [path]
    raise ConfigError(f"PERPBOT_STRATEGIES: {path} is neither a strategy file nor a directory")


def load_configs(paths: Iterable[Path]) -> dict[str, StrategyConfig]:
    """Every strategy config by name; two files with one name is an error naming both."""
    configs: dict[str, StrategyConfig] = {}
    origin: dict[str, Path] = {}
    for path in paths:
        config = load_strategy_config(path)
        if config.name in configs:
            raise ConfigError(
                f"{path}: strategy name {config.name!r} is already used by {origin[config.name]}"
            )
        configs[config.name] = config
        origin[config.name] = path
    return configs


class Runtime:
    """Everything a process needs to build and run strategies. One per process."""

    def __init__(
        self,
        settings: Settings | None = None,
        engine: Engine | None = None,
        clock: Clock | None = None,
        configs: dict[str, StrategyConfig] | None = None,
        step_dispatcher: StepDispatcher | None = None,
        clients: Mapping[VenueAccount, ExchangeClient] | None = None,
        alerts: AlertSink | None = None,
    ) -> None:
        """Every part defaults to the one the settings describe; `clients` gives venue
        clients made elsewhere (a test's or a backtest's), the others are built on use."""
        self.settings = settings or get_settings()
        self._engine = engine
        self._clock = clock
        self._configs = configs
        self._step_dispatcher = step_dispatcher
        self._clients: dict[VenueAccount, ExchangeClient] = dict(clients or {})
        self._alerts = alerts
        self._lock = threading.Lock()

    @cached_property
    def engine(self) -> Engine:
        """The database, once checked to belong to this process's mode (paper or live):
        nothing trades through a runtime on a database of the other mode."""
        engine = self._engine or engine_for(self.settings.database_url)
        check_deployment_mode(engine, self.settings.deployment_mode)
        return engine

    @cached_property
    def clock(self) -> Clock:
        return self._clock or clock_from_settings()

    @property
    def configs(self) -> dict[str, StrategyConfig]:
        if self._configs is None:
            self._configs = load_configs(strategy_files(self.settings.strategies_path))
        return self._configs

    def config(self, name: str) -> StrategyConfig:
        try:
            return self.configs[name]
        except KeyError:
            known = ", ".join(sorted(self.configs)) or "none configured"
            raise ConfigError(f"unknown strategy {name!r} (known: {known})") from None

    def exchange(self, venue: str, account: str = "main") -> ExchangeClient:
        key = VenueAccount(venue, account)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._build_client(key)
                self._clients[key] = client
            return client

    def _build_client(self, key: VenueAccount) -> ExchangeClient:
        return build_exchange(
            key.venue,
            config=VenueConfig(account=key.account),
            settings=self.settings,
            clock=self.clock,
            engine=self.engine,
        )

    def exposure_block(self, name: str) -> str | None:
        """Why strategy `name` may take no new exposure now (halted or paused), or None."""
        with Session(self.engine) as session:
            return ControlRepository(session).exposure_block(name)

    @cached_property
    def alerts(self) -> AlertSink:
        """Where this process's alerts go."""
        return self._alerts or LogAlertSink()

    def halt(self, scope: str, breaker: str, reason: str) -> HaltRecord:
        """Halt `scope` (a strategy name, or "*" for all) now, in its own transaction, and
        alert about it. Idempotent: an already halted scope keeps its first halt (and the
        alert's dedupe key is that halt's, so it goes out once)."""
        with Session(self.engine) as session, session.begin():
            record = HaltRepository(session).trip(scope, breaker, reason, self.clock.now())
        self.alerts.send(halt_alert(record))
        return record

    def build(self, name: str, no_new_exposure: str | None = None) -> BaseStrategy[Any]:
        """A fresh strategy instance with its components, ready for one task.

        With `no_new_exposure` (the reason, from `exposure_block`) its venue clients refuse
        every order that is not reduce-only and its position manager refuses to open one."""
        config = self.config(name)
        exchanges = {va.venue: self.exchange(va.venue, va.account) for va in venue_accounts(config)}
        if no_new_exposure is not None:
            exchanges = {v: reduce_only(c, no_new_exposure) for v, c in exchanges.items()}
        # The kit builds the transfer manager only if the strategy asks for it: the grid must
        # not depend on the transfers configuration being valid.
        kit = PostgresKit(
            self.engine,
            self.clock,
            exchanges,
            transfers=lambda: self.transfer_manager,
            no_new_exposure=no_new_exposure,
        )
        return build_strategy(config, kit)

    def use_step_dispatcher(self, dispatcher: StepDispatcher) -> None:
        """Enqueue transfer steps through `dispatcher` (the task layer gives Celery's).

        It must come before the manager is built: the manager keeps the dispatcher it was
        built with, and a second, different one is refused rather than silently ignored."""
        with self._lock:
            if self._step_dispatcher == dispatcher:
                return
            if self._step_dispatcher is not None or "transfer_manager" in self.__dict__:
                raise ConfigError(
                    "this runtime's transfer manager already has its step dispatching "
                    f"({self._step_dispatcher!r}); give the dispatcher when the runtime is made"
                )
            self._step_dispatcher = dispatcher

    @cached_property
    def transfer_manager(self) -> TransferManager:
        """The fund-transfer manager of this process.

        Live mode: `UnavailableTransferManager` (no live wallet or bridge adapters exist),
        which refuses every request, so strategies only record their transfer needs. Paper:
        `FundTransferManager` on the paper venues and network. Without a step dispatcher
        (no broker) a transfer is stored due now and the beat `transfers-sweep` starts it."""
        if self.settings.is_live:
            return UnavailableTransferManager(LIVE_MODE_REASON)
        from strategies.transfer_wiring import build_transfer_manager

        return build_transfer_manager(
            engine=self.engine,
            clock=self.clock,
            dispatcher=self._step_dispatcher,
            settings=self.settings,
        )

    def is_stateful(self, name: str) -> bool:
        return issubclass(default_registry.resolve(self.config(name).type), StatefulStrategy)


def halt_alert(record: HaltRecord) -> Alert:
    """The operator's alert for a halt (`breaker:<halt id>`: once per halt)."""
    return Alert(
        kind=AlertKind.BREAKER_TRIPPED,
        dedupe_key=f"breaker:{record.id}",
        subject=f"perpbot: {'all strategies' if record.is_global else record.scope} halted "
        f"({record.breaker})",
        body=record.describe() + "; lift with `trading_bot.py resume --halt`",
        severity=AlertSeverity.CRITICAL,
        strategy=None if record.is_global else record.scope,
    )


_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def get_runtime() -> Runtime:
    """The process-wide runtime (built on first use, never at import)."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = Runtime()
        return _runtime


def reset_runtime() -> None:
    """Forget the process-wide runtime (tests, and after settings change)."""
    global _runtime
    with _runtime_lock:
        _runtime = None

"""Composition of the fund-transfer component: config file -> store, venues, paper network,
bridges -> `FundTransferManager`. The runtime (`strategies/runtime.py`) calls
`build_transfer_manager` once per process; tasks and the CLI get the manager from the runtime.

`configs/transfers.yaml` (or the file named by `PERPBOT_TRANSFERS_CONFIG`) has two sections:
`routing` (venue <-> chain mapping, the address allowlist, the policy; see
`operations/transfer_config.py`) and `paper` (the simulated network's bridges, confirmation
time, venue transfer terms and injected faults; see `exchanges/bridges/config.py`).

Transfers run on paper venues and paper bridges. Live bridge and wallet adapters are not
built: in live mode the runtime injects `UnavailableTransferManager` instead, and
`build_transfer_manager` refuses with a clear error rather than move real money through a
simulation.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import yaml
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine

from core.clock import Clock
from core.errors import ConfigError
from core.settings import PROJECT_ROOT, Settings, get_settings
from exchanges.base import Capability
from exchanges.bridges.config import PaperNetworkConfig
from exchanges.bridges.faults import FlakyWithdrawals, TransientFaults
from exchanges.bridges.paper_bridges import PaperBridge
from exchanges.bridges.paper_network import PaperNetwork
from exchanges.paper import PaperExchange, PaperVenueConfig
from exchanges.paper.transfers import deposit_address
from strategies.components.sessions import engine_scope
from strategies.components.transfer_store import PostgresTransferStore
from strategies.components.transfer_types import StepDispatcher, TransferVenue
from strategies.implementations.funding_arbitrage.operations.bridge_manager import BridgeManager
from strategies.implementations.funding_arbitrage.operations.fund_transfer import (
    FundTransferManager,
)
from strategies.implementations.funding_arbitrage.operations.transfer_config import (
    TransferRoutingConfig,
)

DEFAULT_CONFIG = PROJECT_ROOT / "configs" / "transfers.yaml"


class TransfersConfig(BaseModel):
    """The whole transfers config file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    routing: TransferRoutingConfig
    paper: PaperNetworkConfig = PaperNetworkConfig()


class TransferSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    config_path: Path = Field(
        DEFAULT_CONFIG, validation_alias=AliasChoices("PERPBOT_TRANSFERS_CONFIG")
    )


def load_transfers_config(path: Path | None = None) -> TransfersConfig:
    """Read and validate the transfers config; errors name the file and the field path."""
    path = path or TransferSettings().config_path
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the transfers config ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    try:
        return TransfersConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or '(top level)'}: {item['msg']}"
            for item in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None


def check_paper_deposit_addresses(config: TransfersConfig) -> None:
    """Every allowlisted venue deposit address must be that paper account's address."""
    for index, entry in enumerate(config.routing.allowlist):
        if entry.kind != "venue_deposit" or entry.venue is None:
            continue
        expected = deposit_address(entry.venue, entry.account, entry.chain)
        if entry.address.lower() != expected.lower():
            raise ConfigError(
                f"routing.allowlist.{index}: {entry.venue}/{entry.account} receives deposits on "
                f"{entry.chain} at {expected} on the paper venue, not {entry.address}"
            )


class PaperVenueDirectory:
    """Paper venue accounts for transfers, with the config's transfer terms and faults."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        venues: Mapping[str, PaperVenueConfig],
        faults: TransientFaults,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._configs = dict(venues)
        self._faults = faults
        self._cache: dict[tuple[str, str], TransferVenue] = {}

    def _exchange(self, name: str, account: str) -> PaperExchange:
        return PaperExchange(
            name,
            engine=self._engine,
            clock=self._clock,
            account=account,
            config=self._configs.get(name, PaperVenueConfig()),
        )

    def venue(self, name: str, account: str) -> TransferVenue:
        key = (name, account)
        if key not in self._cache:
            self._cache[key] = FlakyWithdrawals(self._exchange(name, account), self._faults)
        return self._cache[key]

    def capabilities(self, name: str) -> frozenset[Capability]:
        return self._exchange(name, "main").capabilities()


def build_transfer_manager(
    *,
    engine: Engine,
    clock: Clock,
    config: TransfersConfig | None = None,
    dispatcher: StepDispatcher | None = None,
    settings: Settings | None = None,
    venue_terms: Mapping[str, PaperVenueConfig] | None = None,
) -> FundTransferManager:
    """The transfer manager for this deployment (paper venues, paper network, bridges).

    Without a `dispatcher` (no broker in this process) a request is stored due now and the
    `transfers-sweep` task starts it. `venue_terms` are the paper venues' terms from the
    venues config (`configs/venues.yaml`), which trading uses too; a venue given there and
    in this file's `paper.venues` as well is an error (one venue, one set of terms)."""
    settings = settings or get_settings()
    if settings.is_live:
        raise ConfigError(
            "fund transfers run on paper venues and paper bridges only; live wallet and "
            "bridge adapters are not built, so transfers are refused in live mode"
        )
    config = config or load_transfers_config()
    check_paper_deposit_addresses(config)
    paper = config.paper
    both = sorted(set(paper.venues) & set(venue_terms or {}))
    if both:
        raise ConfigError(
            f"paper venue terms for {', '.join(both)} are in the transfers config "
            "(paper.venues) and in the venues config: keep them in the venues config only"
        )
    terms = {**(venue_terms or {}), **paper.venues}
    faults = TransientFaults(engine, paper.transient_failures)
    targets = {
        (e.chain, e.address): (e.venue, e.account)
        for e in config.routing.allowlist
        if e.kind == "venue_deposit" and e.venue is not None
    }
    network = PaperNetwork(
        engine,
        clock,
        targets,
        confirm_delay=timedelta(seconds=paper.deposit_confirm_seconds),
        faults=faults,
    )
    bridges = BridgeManager(
        [
            PaperBridge(profile, engine=engine, clock=clock, seed=paper.seed, faults=faults)
            for profile in paper.bridges
        ],
        time_value_per_hour=config.routing.policy.time_value_per_hour,
    )
    return FundTransferManager(
        store=PostgresTransferStore(engine_scope(engine), clock),
        venues=PaperVenueDirectory(engine, clock, terms, faults),
        network=network,
        bridges=bridges,
        routing=config.routing,
        clock=clock,
        dispatcher=dispatcher,
    )

"""`ComponentKit`: the typed provider of every backend, from which strategies take theirs.

A strategy class declares what it needs as a typed bundle (e.g. the stateless category's
`StatelessComponents`, funding arbitrage's `FundingArbitrageComponents`) and builds it in
`create(config, kit)` by calling the accessors below — no component is looked up by name.
Each accessor builds its part on first use and returns the same one afterwards, so a
strategy that never asks for a transfer manager (the grid) never causes one to be built.

The kits are `kits.PostgresKit` (production: every part persists in PostgreSQL) and
`kits.InMemoryKit` (tests and backtests: no database at all).
"""

from __future__ import annotations

from typing import Protocol

from core.clock import Clock
from exchanges.base import ExchangeClient
from strategies.components.base_components import (
    EventSink,
    FundingPaymentStore,
    FundingRateSource,
    OrderExecution,
    PositionManager,
    StateManager,
)
from strategies.components.concurrency import LegRunner
from strategies.components.transfer_types import TransferManager


class ComponentKit(Protocol):
    @property
    def clock(self) -> Clock: ...

    def exchange(self, venue: str) -> ExchangeClient:
        """The client for `venue`; `ComponentMissingError` names it and the known venues."""
        ...

    def positions(self) -> PositionManager: ...

    def state(self) -> StateManager: ...

    def events(self) -> EventSink: ...

    def orders(self) -> OrderExecution:
        """Journal-first order sending to this kit's venues."""
        ...

    def funding_rates(self) -> FundingRateSource: ...

    def funding_payments(self) -> FundingPaymentStore: ...

    def transfers(self) -> TransferManager:
        """The fund-transfer manager, or one that refuses (no transfers can run here)."""
        ...

    def leg_runner(self) -> LegRunner:
        """How the two legs of a hedged order run (threads, or one after the other)."""
        ...

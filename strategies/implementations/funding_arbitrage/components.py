"""`FundingArbitrageComponents`: every component the funding-arbitrage strategy needs, typed
and non-optional, taken from the kit by `FundingArbitrageStrategy.create`."""

from __future__ import annotations

from dataclasses import dataclass

from strategies.base_strategy import StrategyConfig
from strategies.categories.stateful_strategy import StatefulComponents
from strategies.components.base_components import (
    FundingPaymentStore,
    FundingRateSource,
    OrderExecution,
)
from strategies.components.concurrency import LegRunner
from strategies.components.kit import ComponentKit
from strategies.components.transfer_types import TransferManager


@dataclass(frozen=True, slots=True)
class FundingArbitrageComponents(StatefulComponents):
    orders: OrderExecution  # journal-first order sending to the configured venues
    funding_rates: FundingRateSource  # what the funding service collected
    funding_payments: FundingPaymentStore  # the funding each position's legs were paid
    transfers: TransferManager  # moves margin between venues (or refuses: live mode)
    leg_runner: LegRunner  # both legs at once (threads), or one after the other (simulation)

    @classmethod
    def from_kit(cls, kit: ComponentKit, config: StrategyConfig) -> FundingArbitrageComponents:
        base = StatefulComponents.from_kit(kit, config)
        return FundingArbitrageComponents(
            clock=base.clock,
            exchanges=base.exchanges,
            positions=base.positions,
            state=base.state,
            audit=base.audit,
            orders=kit.orders(),
            funding_rates=kit.funding_rates(),
            funding_payments=kit.funding_payments(),
            transfers=kit.transfers(),
            leg_runner=kit.leg_runner(),
        )

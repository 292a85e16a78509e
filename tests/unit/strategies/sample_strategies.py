"""Two small strategies that exercise the framework the way real ones will.

`QuoteStrategy` (stateless): one post-only bid at the best bid while the spread is tight.
`LedgerStrategy` (stateful): opens one hedged position across two venues and counts its
cycles in its persisted state. Neither is a product strategy; they exist to prove the
categories, the components and the factory.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.enums import OrderSide, OrderType
from exchanges.base import OrderRequest
from strategies.base_strategy import CycleResult, StrategyConfig
from strategies.categories.stateful_strategy import StatefulComponents, StatefulStrategy
from strategies.categories.stateless_strategy import (
    Action,
    MarketSnapshot,
    PlaceOrder,
    StatelessComponents,
    StatelessStrategy,
    StatelessStrategyConfig,
)
from strategies.components.base_components import NewPosition
from strategies.components.kit import ComponentKit


class QuoteConfig(StatelessStrategyConfig):
    type: Literal["sample_quote"]
    order_usd: Decimal = Field(gt=0)
    max_spread_bps: Decimal = Field(gt=0)


class QuoteStrategy(StatelessStrategy[QuoteConfig, StatelessComponents]):
    config_model = QuoteConfig

    @classmethod
    def create(cls, config: QuoteConfig, kit: ComponentKit) -> Self:
        return cls(config, StatelessComponents.from_kit(kit, config))

    def decide(self, snapshot: MarketSnapshot, now: datetime) -> Sequence[Action]:
        if snapshot.open_orders or snapshot.spread_bps > self.config.max_spread_bps:
            return []
        qty = (self.config.order_usd / snapshot.book.bid).quantize(Decimal("0.0001"))
        request = OrderRequest(
            client_order_id=self.client_order_id(now, "bid"),
            symbol=snapshot.symbol,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=qty,
            price=snapshot.book.bid,
            post_only=True,
        )
        return [PlaceOrder(request)]


class RebalanceSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_erosion: Decimal
    max_hold_hours: int = Field(gt=0)

    @field_validator("min_erosion")
    @classmethod
    def _fraction(cls, value: Decimal) -> Decimal:
        if not Decimal(0) <= value <= Decimal(1):
            raise ValueError("must be between 0 and 1")
        return value


class LedgerConfig(StrategyConfig):
    type: Literal["sample_ledger"]
    symbol: str
    venues: list[str] = Field(min_length=2, max_length=2)
    size_usd: Decimal = Field(gt=0)
    rebalance: RebalanceSettings

    def venue_accounts(self) -> list[tuple[str, str]]:
        return [(venue, "main") for venue in self.venues]


class LedgerStrategy(StatefulStrategy[LedgerConfig, StatefulComponents]):
    config_model = LedgerConfig

    @classmethod
    def create(cls, config: LedgerConfig, kit: ComponentKit) -> Self:
        return cls(config, StatefulComponents.from_kit(kit, config))

    def run_cycle(self, now: datetime) -> CycleResult:
        return self.run_phase("open", now, lambda: self._open(now))

    def _open(self, now: datetime) -> list[object]:
        self.update_state(lambda s: {**s, "cycles": s.get("cycles", 0) + 1, "last_cycle_at": now})
        if self.position_manager.find_active(self.name, self.config.symbol):
            return []
        long_venue, short_venue = self.config.venues
        position = self.position_manager.open(
            NewPosition(
                self.name, self.config.symbol, long_venue, short_venue, self.config.size_usd
            )
        )
        self.record_event("ledger.opened", {"position_id": position.id})
        return [position]

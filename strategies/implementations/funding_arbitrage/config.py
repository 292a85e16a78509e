"""The funding-arbitrage config: venues, symbols, sizing, entry, risk, rebalance, execution.

Rates in the config are APRs as fractions (0.10 = 10 % a year); they are compared per hour
inside (`apr / 8760`), as the funding service does. Money is USD as Decimal. Every model is
frozen and refuses unknown fields; cross-field rules name the fields they compare, so a bad
config fails at load with the path, e.g.

    configs/strategies/arb.yaml: funding_arbitrage.rebalance.profit_erosion.min_erosion:
        must be between 0 and 1
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from core.market import HOURS_PER_YEAR
from strategies.base_strategy import StrategyConfig

VenueName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$", max_length=20)]
AccountName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+$", max_length=40)]
Symbol = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]+$", max_length=20)]
Money = Annotated[Decimal, Field(gt=0)]


def _fraction(value: Decimal) -> Decimal:
    if not Decimal(0) < value < Decimal(1):
        raise ValueError("must be between 0 and 1 (exclusive)")
    return value


Fraction = Annotated[Decimal, AfterValidator(_fraction)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class VenueSettings(_Model):
    """One venue the strategy trades on, and the free margin it wants to keep there."""

    name: VenueName
    # The sub-account used on the venue (the composition root connects to it). It must be
    # dedicated to this strategy: venue positions are read as this strategy's legs.
    account: AccountName = "main"
    # Below this free margin the transfers phase asks for money from a venue with excess.
    min_free_margin_usd: Decimal = Field(Decimal(0), ge=0)
    # What a venue short of margin is topped up to, and what a donor venue keeps.
    target_free_margin_usd: Decimal | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _target_covers_minimum(self) -> VenueSettings:
        if self.target_free_margin_usd is not None and (
            self.target_free_margin_usd < self.min_free_margin_usd
        ):
            raise ValueError(
                f"target_free_margin_usd ({self.target_free_margin_usd}) is below "
                f"min_free_margin_usd ({self.min_free_margin_usd})"
            )
        return self

    @property
    def target_margin_usd(self) -> Decimal:
        return (
            self.target_free_margin_usd
            if self.target_free_margin_usd is not None
            else self.min_free_margin_usd
        )


class SizingConfig(_Model):
    position_size_usd: Money  # notional per leg of a new position
    # The leverage the venue accounts run at (the venue port cannot set it): used to
    # estimate the margin an open needs and its distance to liquidation.
    leverage: Decimal = Field(gt=0, le=100)


class EntryConfig(_Model):
    min_apr: Decimal = Field(ge=0)  # divergence, as APR, needed to open
    max_breakeven_hours: Money  # hours of divergence needed to pay the round-trip fees
    max_rate_age_seconds: int = Field(900, gt=0)  # older funding observations are stale
    min_open_interest_usd: Decimal | None = Field(None, ge=0)

    @property
    def max_rate_age(self) -> timedelta:
        return timedelta(seconds=self.max_rate_age_seconds)

    @property
    def min_divergence_hourly(self) -> Decimal:
        return self.min_apr / HOURS_PER_YEAR


class RiskConfig(_Model):
    max_position_usd: Money  # notional per leg of one position
    max_total_exposure_usd: Money  # sum over open positions of notional per leg
    max_positions: int = Field(ge=1, le=1_000)
    max_leverage: Decimal = Field(gt=0, le=100)  # per venue: notional held / equity
    min_liquidation_distance: Fraction  # estimated for an open, as a fraction of the mark


class ExecutionConfig(_Model):
    # Every duration here is seconds of the strategy's clock (simulated seconds under the
    # demo's scaled clock or a backtest's manual one).
    # How long the two opening legs may stay apart (transient errors retried meanwhile);
    # a reconciled open older than this is unwound rather than completed.
    max_leg_skew_seconds: float = Field(5.0, gt=0, le=300)
    # Bound on bringing the legs back to equal size (unwind, trim, close retries).
    unwind_timeout_seconds: float = Field(30.0, gt=0, le=3_600)
    retry_interval_seconds: float = Field(0.5, ge=0, le=60)
    # Refuse an open when buying the long leg at its ask and selling the short leg at its
    # bid costs more than this, in basis points of the price (spreads plus basis).
    slippage_tolerance_bps: Decimal = Field(Decimal(20), ge=0, le=1_000)
    # After an open of a pair FAILED (a leg refused and the other unwound), the pair is not
    # tried again for this long: each attempt pays fees, and a venue refusing now usually
    # refuses on the next tick too.
    failed_open_cooldown_seconds: int = Field(900, ge=0)
    # After a close failed (one venue refused and the closed leg was bought back), the
    # policy's next close, switch or reduce of that position waits this long, for the same
    # reason. An operator's request is never delayed.
    close_retry_seconds: int = Field(300, ge=0)


class IntervalsConfig(_Model):
    """Beat intervals of the phases (read by beat_schedule.py)."""

    monitor_seconds: int = Field(60, ge=1)
    rebalance_seconds: int = Field(300, ge=1)
    open_seconds: int = Field(300, ge=1)
    transfers_seconds: int | None = Field(300, ge=1)


# ---------------------------------------------------------------- rebalance policies


class ProfitErosionPolicy(_Model):
    """Close when the divergence has lost `min_erosion` of its value at entry."""

    type: Literal["profit_erosion"]
    min_erosion: Fraction
    priority: int = Field(20, ge=0, le=1_000)


class DivergenceFlipPolicy(_Model):
    """Close when the divergence is at or below `-flip_margin_apr` (we now pay funding)."""

    type: Literal["divergence_flip"]
    flip_margin_apr: Decimal = Field(Decimal(0), ge=0)
    priority: int = Field(10, ge=0, le=1_000)


class BetterOpportunityPolicy(_Model):
    """Switch when another pair earns more over the horizon than switching costs."""

    type: Literal["better_opportunity"]
    min_gain_usd: Decimal = Field(Decimal(0), ge=0)  # required on top of the costs
    priority: int = Field(40, ge=0, le=1_000)


class TimeBasedPolicy(_Model):
    """Close a position held longer than `max_hold_hours`."""

    type: Literal["time_based"]
    max_hold_hours: Money
    priority: int = Field(30, ge=0, le=1_000)


class LiquidationRiskPolicy(_Model):
    """Act when a leg's distance to liquidation (fraction of the mark) gets small."""

    type: Literal["liquidation_risk"]
    min_distance: Fraction  # below: reduce or top up margin (`action`)
    critical_distance: Fraction  # below: close
    action: Literal["reduce", "top_up_margin"] = "reduce"
    reduce_fraction: Fraction = Decimal("0.5")
    priority: int = Field(0, ge=0, le=1_000)

    @model_validator(mode="after")
    def _critical_below_minimum(self) -> LiquidationRiskPolicy:
        if self.critical_distance >= self.min_distance:
            raise ValueError(
                f"critical_distance ({self.critical_distance}) must be below "
                f"min_distance ({self.min_distance})"
            )
        return self


class CombinedPolicy(_Model):
    """Several policies together. `mode`:

    - `priority`: the fired decision with the lowest priority number wins (ties: the one
      listed first);
    - `any`: same as `priority`, except that a more decisive action beats a lower number
      (CLOSE > SWITCH > REDUCE > TOP_UP_MARGIN);
    - `all`: acts only when every policy fires, with the `priority` winner's action.
    """

    type: Literal["combined"]
    mode: Literal["priority", "any", "all"] = "priority"
    policies: list[RebalancePolicy] = Field(min_length=1)
    priority: int = Field(0, ge=0, le=1_000)


RebalancePolicy = Annotated[
    Union[  # a recursive alias: Union with a forward reference
        ProfitErosionPolicy,
        DivergenceFlipPolicy,
        BetterOpportunityPolicy,
        TimeBasedPolicy,
        LiquidationRiskPolicy,
        "CombinedPolicy",
    ],
    Field(discriminator="type"),
]
CombinedPolicy.model_rebuild()


# ---------------------------------------------------------------- the strategy


class FundingArbitrageConfig(StrategyConfig):
    type: Literal["funding_arbitrage"]
    enabled: bool = True  # False: no beat entries; manual operations still work
    venues: list[VenueSettings] = Field(min_length=2)
    symbols: list[Symbol] = Field(min_length=1)
    sizing: SizingConfig
    horizon_hours: Money  # expected holding time, for ranking and switching decisions
    entry: EntryConfig
    risk: RiskConfig
    rebalance: RebalancePolicy
    execution: ExecutionConfig = ExecutionConfig()
    intervals: IntervalsConfig = IntervalsConfig()

    @model_validator(mode="after")
    def _consistent(self) -> FundingArbitrageConfig:
        names = [v.name for v in self.venues]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"venues: {', '.join(duplicated)} listed more than once")
        repeated = sorted({s for s in self.symbols if self.symbols.count(s) > 1})
        if repeated:
            raise ValueError(f"symbols: {', '.join(repeated)} listed more than once")
        sizing, risk = self.sizing, self.risk
        if sizing.position_size_usd > risk.max_position_usd:
            raise ValueError(
                f"sizing.position_size_usd ({sizing.position_size_usd}) exceeds "
                f"risk.max_position_usd ({risk.max_position_usd})"
            )
        if risk.max_position_usd > risk.max_total_exposure_usd:
            raise ValueError(
                f"risk.max_position_usd ({risk.max_position_usd}) exceeds "
                f"risk.max_total_exposure_usd ({risk.max_total_exposure_usd})"
            )
        if sizing.leverage > risk.max_leverage:
            raise ValueError(
                f"sizing.leverage ({sizing.leverage}) exceeds risk.max_leverage "
                f"({risk.max_leverage})"
            )
        if 1 / sizing.leverage <= risk.min_liquidation_distance:
            raise ValueError(
                f"sizing.leverage ({sizing.leverage}) puts liquidation at most "
                f"{1 / sizing.leverage:.4f} of the price away, not above "
                f"risk.min_liquidation_distance ({risk.min_liquidation_distance})"
            )
        return self

    @property
    def venue_names(self) -> list[str]:
        return [v.name for v in self.venues]

    def venue_accounts(self) -> list[tuple[str, str]]:
        return [(v.name, v.account) for v in self.venues]

    def traded_symbols(self) -> list[str]:
        return list(self.symbols)

    def venue(self, name: str) -> VenueSettings:
        for settings in self.venues:
            if settings.name == name:
                return settings
        raise KeyError(f"venue {name!r} is not configured (configured: {self.venue_names})")

"""The decisions of funding arbitrage, as data: one frozen type per kind of decision.

Pure code returns these (the rebalance policies, `entry.plan_open`, `monitoring.decide`,
`opener.decide_open`, ...); `executor.ArbitrageExecutor` carries them out. Callers branch
on the type (or on a typed field such as `OpenRefused.rule`), never on the prose of a reason.

Rebalance policies return one of `Hold`, `Close`, `Switch`, `Reduce`, `TopUpMargin` (each
with its reason, priority and the policy that decided); the union is `RebalanceDecision`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from funding_service.opportunities import Opportunity
from strategies.components.base_components import (
    FundingLegSummary,
    FundingPaymentRecord,
    PositionRecord,
)
from strategies.implementations.funding_arbitrage.models import Leg, LegState, OpenPlan, qty_text

# ---------------------------------------------------------------- rebalance


class RebalanceAction(StrEnum):
    HOLD = "hold"
    CLOSE = "close"
    SWITCH = "switch"
    REDUCE = "reduce"
    TOP_UP_MARGIN = "top_up_margin"


# How decisive an action is (lower: more), for `combined` in `any` mode.
ACTION_SEVERITY: Mapping[RebalanceAction, int] = {
    RebalanceAction.CLOSE: 0,
    RebalanceAction.SWITCH: 1,
    RebalanceAction.REDUCE: 2,
    RebalanceAction.TOP_UP_MARGIN: 3,
    RebalanceAction.HOLD: 4,
}
# Decisions that trade (and so wait after a failed close, see `WaitAfterFailedClose`).
TRADING_ACTIONS = frozenset({RebalanceAction.CLOSE, RebalanceAction.SWITCH, RebalanceAction.REDUCE})


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """What a policy wants done with one position, why, how urgently, and who decided."""

    action: ClassVar[RebalanceAction]
    reason: str
    priority: int
    source: str  # the policy type that decided ("operator" for a manual close)

    @property
    def fired(self) -> bool:
        return self.action is not RebalanceAction.HOLD

    @property
    def trades(self) -> bool:
        return self.action in TRADING_ACTIONS


@dataclass(frozen=True, slots=True)
class Hold(PolicyDecision):
    action: ClassVar[RebalanceAction] = RebalanceAction.HOLD


@dataclass(frozen=True, slots=True)
class Close(PolicyDecision):
    """Close both legs, hedged."""

    action: ClassVar[RebalanceAction] = RebalanceAction.CLOSE


@dataclass(frozen=True, slots=True)
class Switch(PolicyDecision):
    """Close, then open `target` through the opening path (risk limits included)."""

    action: ClassVar[RebalanceAction] = RebalanceAction.SWITCH
    target: Opportunity


@dataclass(frozen=True, slots=True)
class Reduce(PolicyDecision):
    """Take `fraction` off both legs."""

    action: ClassVar[RebalanceAction] = RebalanceAction.REDUCE
    fraction: Decimal

    def __post_init__(self) -> None:
        if not 0 < self.fraction < 1:
            raise ValueError(f"a reduce needs a fraction between 0 and 1, got {self.fraction}")


@dataclass(frozen=True, slots=True)
class TopUpMargin(PolicyDecision):
    """Add `amount_usd` of margin to `leg` (recorded for the operator: the venue port cannot
    move margin into one position)."""

    action: ClassVar[RebalanceAction] = RebalanceAction.TOP_UP_MARGIN
    leg: Leg
    amount_usd: Decimal


RebalanceDecision = Hold | Close | Switch | Reduce | TopUpMargin


@dataclass(frozen=True, slots=True)
class WaitAfterFailedClose:
    """A trading decision held back: this position's close failed at `failed_at`, and
    `execution.close_retry_seconds` has not passed (each retry pays fees)."""

    decision: RebalanceDecision
    failed_at: datetime
    until: datetime

    @property
    def detail(self) -> str:
        seconds = (self.until - self.failed_at).total_seconds()
        return (
            f"waiting: the close failed at {self.failed_at.isoformat()}; "
            f"execution.close_retry_seconds is {seconds:.0f}"
        )


@dataclass(frozen=True, slots=True)
class OperatorClose:
    """The operator asked to close the position (never delayed, whatever the policy says)."""

    position: PositionRecord
    reason: str


# ---------------------------------------------------------------- monitor and recovery


@dataclass(frozen=True, slots=True)
class Resume:
    """Carry an OPENING / CLOSING / NEEDS_RECONCILE position on to a safe end, with the
    client ids its operation journaled (`position.operation` says what it was doing)."""

    position: PositionRecord


@dataclass(frozen=True, slots=True)
class Repair:
    """An OPEN position whose venues no longer hold what it says (a leg liquidated or
    changed outside the strategy): reconcile it now."""

    position: PositionRecord
    mismatch: str


@dataclass(frozen=True, slots=True)
class ForeignPosition:
    """A venue account of the strategy holds `qty` of `symbol` that no active position of
    the strategy has a leg in: nothing can say whose it is or how to trade it safely, so
    the strategy is halted (new exposure refused) until an operator looks."""

    venue: str
    symbol: str
    qty: Decimal  # signed, as the venue reports it

    @property
    def detail(self) -> str:
        return (
            f"{self.venue} holds {qty_text(self.qty)} {self.symbol} that is no position of this "
            f"strategy (opened outside perpbot, or left behind)"
        )


@dataclass(frozen=True, slots=True)
class Refresh:
    """Write what the monitor read about a hedged position: new funding payments of both
    legs, the divergence now, unrealized PnL."""

    position: PositionRecord
    legs: Mapping[Leg, LegState]
    payments: tuple[FundingPaymentRecord, ...]  # settled since the last one stored
    stored: Mapping[str, FundingLegSummary]  # per leg venue: what was stored when read
    divergence_hourly: Decimal | None
    missing_funding: tuple[str, ...]  # legs whose venue could not report funding, and why

    @property
    def unrealized_pnl_usd(self) -> Decimal:
        return sum((leg.unrealized_pnl for leg in self.legs.values()), Decimal(0))

    @property
    def min_liquidation_distance(self) -> Decimal | None:
        found = [d for d in (leg.liquidation_distance for leg in self.legs.values()) if d]
        return min(found) if found else None


# ---------------------------------------------------------------- opening


class RefusalRule(StrEnum):
    """Why an open was refused: the limit (a config field where there is one) it hit."""

    MAX_POSITIONS = "risk.max_positions"
    FOREIGN_POSITION = "venue.dedicated_account"
    SLIPPAGE = "execution.slippage_tolerance_bps"
    MIN_SIZE = "sizing.position_size_usd"
    MAX_POSITION = "risk.max_position_usd"
    MAX_EXPOSURE = "risk.max_total_exposure_usd"
    MAX_LEVERAGE = "risk.max_leverage"
    FREE_MARGIN = "venue.free_margin"
    LIQUIDATION_DISTANCE = "risk.min_liquidation_distance"
    COOLDOWN = "execution.failed_open_cooldown_seconds"
    VENUE_DATA = "venue.data_unavailable"
    POSITION_EXISTS = "position.active_exists"
    NO_NEW_EXPOSURE = "strategy.no_new_exposure"  # paused (later: halted by a breaker)


@dataclass(frozen=True, slots=True)
class Open:
    """Open the plan's pair hedged: the position row first, then both legs."""

    plan: OpenPlan


@dataclass(frozen=True, slots=True)
class OpenRefused:
    """An open refused, by which rule, and the detail people read."""

    symbol: str
    long_venue: str
    short_venue: str
    apr: Decimal  # the pair's divergence when refused
    rule: RefusalRule
    detail: str

    @classmethod
    def of(cls, opportunity: Opportunity, rule: RefusalRule, detail: str) -> OpenRefused:
        return cls(
            opportunity.symbol,
            opportunity.long_venue,
            opportunity.short_venue,
            opportunity.apr,
            rule,
            detail,
        )

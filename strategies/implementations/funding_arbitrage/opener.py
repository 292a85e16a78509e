"""The open phase's decisions, as pure code: which ranked pair to open, or why not.

For each ranked pair (best first) whose legs are free (`is_free`): a pair whose open FAILED
recently is refused (`cooldown`, `execution.failed_open_cooldown_seconds`); otherwise both
venues' instruments, books and accounts are read (an `OpenCandidate`) and `decide_open`
returns `Open(plan)` or `OpenRefused(rule, detail)` (`entry.plan_open`: the risk limits).
The phase stops at `risk.max_positions`. `executor.ArbitrageExecutor` carries out an
`Open` (the position row, then both legs hedged) and records every refusal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from funding_service.opportunities import Opportunity
from strategies.components.base_components import PositionRecord
from strategies.implementations.funding_arbitrage.config import FundingArbitrageConfig
from strategies.implementations.funding_arbitrage.decisions import Open, OpenRefused, RefusalRule
from strategies.implementations.funding_arbitrage.entry import legs_in_use, plan_open
from strategies.implementations.funding_arbitrage.snapshots import OpenCandidate


def is_free(opportunity: Opportunity, active: Sequence[PositionRecord]) -> bool:
    """Neither leg (venue, symbol) is used by an active position of the strategy."""
    used = legs_in_use(active)
    return (opportunity.long_venue, opportunity.symbol) not in used and (
        opportunity.short_venue,
        opportunity.symbol,
    ) not in used


def cooldown(
    config: FundingArbitrageConfig,
    opportunity: Opportunity,
    failed: Sequence[PositionRecord],
    now: datetime,
) -> OpenRefused | None:
    """The refusal of a pair that failed to open less than the cooldown ago, or None."""
    wait = timedelta(seconds=config.execution.failed_open_cooldown_seconds)
    for position in failed:
        key = (position.symbol, position.long_dex, position.short_dex)
        if key == opportunity.key and position.closed_at and now - position.closed_at < wait:
            return OpenRefused.of(
                opportunity,
                RefusalRule.COOLDOWN,
                f"execution.failed_open_cooldown_seconds: the pair failed to open at "
                f"{position.closed_at.isoformat()} ({position.close_reason})",
            )
    return None


def decide_open(config: FundingArbitrageConfig, candidate: OpenCandidate) -> Open | OpenRefused:
    """Open the candidate if the risk limits allow it."""
    if candidate.unavailable is not None:
        return OpenRefused.of(candidate.opportunity, RefusalRule.VENUE_DATA, candidate.unavailable)
    plan = plan_open(config, candidate.opportunity, candidate.active, candidate.legs)
    return plan if isinstance(plan, OpenRefused) else Open(plan)

"""Deciding an open: the common order size of both legs and the risk limits, as pure code.

`plan_open` takes a ranked opportunity and everything it must be checked against (the
strategy's active positions, both venues' accounts, instruments and books) and returns an
`OpenPlan` or an `OpenRefused` naming the rule (`RefusalRule`) and the detail. Checks, in
order:

1. `risk.max_positions` — active positions (any unfinished one counts);
2. a venue already holding the symbol outside this strategy (accounts must be dedicated);
3. the entry gap: buying the long leg at its ask and selling the short at its bid must cost
   at most `execution.slippage_tolerance_bps` of the price;
4. size: `sizing.position_size_usd / price` rounded down to a step valid on both venues,
   at least both venues' minimum;
5. `risk.max_position_usd`, then `risk.max_total_exposure_usd` (notional per leg, summed);
6. per venue: `risk.max_leverage` on (notional held + new) / equity, and free margin for
   notional / `sizing.leverage` plus the taker fee;
7. the estimated distance to liquidation, 1 / leverage - maintenance margin (half the
   initial margin at the venue's maximum leverage), against `risk.min_liquidation_distance`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from core.market import Instrument, TopOfBook
from core.money import quantize_down
from exchanges.base import Balance, Position
from funding_service.opportunities import Opportunity
from strategies.components.base_components import PositionRecord
from strategies.implementations.funding_arbitrage.config import FundingArbitrageConfig
from strategies.implementations.funding_arbitrage.decisions import OpenRefused, RefusalRule
from strategies.implementations.funding_arbitrage.models import Leg, OpenPlan

BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class VenueAccount:
    """One venue account as read for a decision: balance and positions by symbol."""

    balance: Balance
    positions: Mapping[str, Position]

    @property
    def notional(self) -> Decimal:
        return sum((p.notional for p in self.positions.values()), Decimal(0))


@dataclass(frozen=True, slots=True)
class LegMarket:
    """What an open needs to know about one leg's venue."""

    instrument: Instrument
    book: TopOfBook
    account: VenueAccount


def common_step(a: Decimal, b: Decimal) -> Decimal:
    """The smallest quantity step valid on both venues (least common multiple)."""
    exponent = min(a.as_tuple().exponent, b.as_tuple().exponent, 0)
    assert isinstance(exponent, int)
    scale = Decimal(10) ** -exponent
    return Decimal(math.lcm(int(a * scale), int(b * scale))) / scale


def legs_in_use(positions: Sequence[PositionRecord]) -> set[tuple[str, str]]:
    """(venue, symbol) of every leg of the given positions."""
    used = set()
    for p in positions:
        for venue in (p.long_dex, p.short_dex):
            if venue is not None:
                used.add((venue, p.symbol))
    return used


def plan_open(
    config: FundingArbitrageConfig,
    opportunity: Opportunity,
    active: Sequence[PositionRecord],
    legs: Mapping[Leg, LegMarket],
) -> OpenPlan | OpenRefused:
    """The plan for opening `opportunity`, or the refusal naming the rule it breaks."""

    def refuse(rule: RefusalRule, detail: str) -> OpenRefused:
        return OpenRefused.of(opportunity, rule, detail)

    risk, sizing = config.risk, config.sizing
    symbol = opportunity.symbol
    if len(active) >= risk.max_positions:
        return refuse(
            RefusalRule.MAX_POSITIONS,
            f"risk.max_positions: {len(active)} positions already active "
            f"(max {risk.max_positions})",
        )
    for market in legs.values():
        foreign = market.account.positions.get(symbol)
        if foreign is not None and foreign.qty != 0:
            return refuse(
                RefusalRule.FOREIGN_POSITION,
                f"{market.instrument.venue} already holds {foreign.qty} {symbol} that is not a "
                f"position of this strategy (the account must be dedicated to it)",
            )
    long_book, short_book = legs[Leg.LONG].book, legs[Leg.SHORT].book
    mid = (long_book.mid + short_book.mid) / 2
    gap_bps = (long_book.ask - short_book.bid) / mid * BPS
    if gap_bps > config.execution.slippage_tolerance_bps:
        return refuse(
            RefusalRule.SLIPPAGE,
            f"execution.slippage_tolerance_bps: buying at {long_book.ask} and selling at "
            f"{short_book.bid} costs {gap_bps:.2f} bps "
            f"(max {config.execution.slippage_tolerance_bps})",
        )
    long_inst, short_inst = legs[Leg.LONG].instrument, legs[Leg.SHORT].instrument
    step = common_step(long_inst.qty_step, short_inst.qty_step)
    minimum = max(long_inst.min_qty, short_inst.min_qty)
    price = max(long_book.ask, short_book.bid)
    qty = quantize_down(sizing.position_size_usd / price, step)
    if qty < minimum or qty <= 0:
        return refuse(
            RefusalRule.MIN_SIZE,
            f"sizing.position_size_usd {sizing.position_size_usd} buys {qty} {symbol} at "
            f"{price}, below the minimum order size {minimum}",
        )
    notional = qty * price
    if notional > risk.max_position_usd:
        return refuse(
            RefusalRule.MAX_POSITION,
            f"risk.max_position_usd: {notional:.2f} USD exceeds {risk.max_position_usd}",
        )
    exposure = sum((p.size_usd for p in active), Decimal(0))
    if exposure + notional > risk.max_total_exposure_usd:
        return refuse(
            RefusalRule.MAX_EXPOSURE,
            f"risk.max_total_exposure_usd: {exposure:.2f} USD held + {notional:.2f} USD new "
            f"exceeds {risk.max_total_exposure_usd}",
        )
    for market in legs.values():
        refusal = _venue_refusal(config, market, notional)
        if refusal is not None:
            return refuse(*refusal)
    return OpenPlan(opportunity=opportunity, qty=qty, size_usd=notional, entry_gap_bps=gap_bps)


def _venue_refusal(
    config: FundingArbitrageConfig, market: LegMarket, notional: Decimal
) -> tuple[RefusalRule, str] | None:
    risk, sizing = config.risk, config.sizing
    venue = market.instrument.venue
    equity = market.account.balance.total
    held = market.account.notional
    if equity <= 0 or (held + notional) / equity > risk.max_leverage:
        leverage = "unbounded" if equity <= 0 else f"{(held + notional) / equity:.2f}x"
        return RefusalRule.MAX_LEVERAGE, (
            f"risk.max_leverage: {venue} would carry {held + notional:.2f} USD on "
            f"{equity:.2f} USD of equity ({leverage}, max {risk.max_leverage}x)"
        )
    needed = notional / sizing.leverage + notional * market.instrument.taker_fee
    available = market.account.balance.available
    if needed > available:
        return RefusalRule.FREE_MARGIN, (
            f"insufficient free margin on {venue}: the leg needs {needed:.2f} USD, "
            f"{available:.2f} USD available"
        )
    maintenance = 1 / (2 * market.instrument.max_leverage)
    distance = 1 / sizing.leverage - maintenance
    if distance < risk.min_liquidation_distance:
        return RefusalRule.LIQUIDATION_DISTANCE, (
            f"risk.min_liquidation_distance: at {sizing.leverage}x on {venue} liquidation is "
            f"about {distance:.4f} of the price away (min {risk.min_liquidation_distance})"
        )
    return None

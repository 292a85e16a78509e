"""Open sizing and risk limits, and which venue needs margin from which: pure decisions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from core.market import Instrument, TopOfBook
from exchanges.base import Balance, Position
from strategies.implementations.funding_arbitrage.config import (
    FundingArbitrageConfig,
    VenueSettings,
)
from strategies.implementations.funding_arbitrage.decisions import OpenRefused, RefusalRule
from strategies.implementations.funding_arbitrage.entry import (
    LegMarket,
    VenueAccount,
    common_step,
    plan_open,
)
from strategies.implementations.funding_arbitrage.margin import transfer_needs
from strategies.implementations.funding_arbitrage.models import Leg, OpenPlan, TransferNeed

from .helpers import T0, D, opportunity, position


def config(**risk: Any) -> FundingArbitrageConfig:
    limits = {
        "max_position_usd": "3000",
        "max_total_exposure_usd": "10000",
        "max_positions": 3,
        "max_leverage": "5",
        "min_liquidation_distance": "0.1",
    }
    limits.update(risk)
    return FundingArbitrageConfig.model_validate(
        {
            "type": "funding_arbitrage",
            "name": "arb",
            "venues": [{"name": "lighter"}, {"name": "hyperliquid"}],
            "symbols": ["SOL"],
            "sizing": {"position_size_usd": "3000", "leverage": "3"},
            "horizon_hours": 168,
            "entry": {"min_apr": "0.1", "max_breakeven_hours": 48},
            "risk": limits,
            "rebalance": {"type": "divergence_flip"},
        }
    )


def leg_market(venue: str, bid: str = "149.9", ask: str = "150.1", **account: Any) -> LegMarket:
    instrument = Instrument(venue, "SOL", D("0.1"), D("0.1"), D("0.001"), D(0), D("0.0005"), D(20))
    balance = Balance(
        venue, "USDC", D(account.get("equity", 10_000)), D(account.get("available", 10_000)), D(0)
    )
    held = account.get("positions", {})
    return LegMarket(
        instrument,
        TopOfBook(venue, "SOL", D(bid), D(10), D(ask), D(10), T0),
        VenueAccount(balance, held),
    )


def legs(**changes: LegMarket) -> dict[Leg, LegMarket]:
    base = {Leg.LONG: leg_market("lighter"), Leg.SHORT: leg_market("hyperliquid")}
    base.update({Leg[k.upper()]: v for k, v in changes.items()})
    return base


def test_the_size_is_rounded_down_to_a_step_both_venues_accept():
    plan = plan_open(config(), opportunity("0.4"), [], legs())
    assert isinstance(plan, OpenPlan)
    # 3000 USD at the worse of long ask 150.1 / short bid 149.9: 19.98 -> 19.9 SOL.
    assert plan.qty == D("19.9") and plan.size_usd == D("19.9") * D("150.1")
    assert plan.entry_gap_bps.quantize(D("0.01")) == D("13.33")  # (150.1 - 149.9) / 150


def test_common_step_is_the_least_common_multiple():
    assert common_step(D("0.01"), D("0.001")) == D("0.01")
    assert common_step(D("0.04"), D("0.06")) == D("0.12")
    assert common_step(D(1), D("0.5")) == D(1)


Check = Callable[[], OpenPlan | OpenRefused]


@pytest.mark.parametrize(
    ("make", "rule", "reason"),
    [
        (
            lambda: plan_open(config(max_positions=1), opportunity("0.4"), [position()], legs()),
            RefusalRule.MAX_POSITIONS,
            "risk.max_positions: 1 positions already active (max 1)",
        ),
        (
            lambda: plan_open(
                config(max_total_exposure_usd="12000"),
                opportunity("0.4"),
                [position(), replace(position(), size_usd=D(1000))],
                legs(),
            ),
            RefusalRule.MAX_EXPOSURE,
            "risk.max_total_exposure_usd: 11000.00 USD held + 2986.99 USD new exceeds 12000",
        ),
        (
            lambda: plan_open(
                config(), opportunity("0.4"), [], legs(long=leg_market("lighter", "149", "151"))
            ),
            RefusalRule.SLIPPAGE,
            "execution.slippage_tolerance_bps: buying at 151 and selling at 149.9 costs 73.33 bps",
        ),
        (
            lambda: plan_open(
                config(),
                opportunity("0.4"),
                [],
                legs(short=leg_market("hyperliquid", available=900)),
            ),
            RefusalRule.FREE_MARGIN,
            "insufficient free margin on hyperliquid: the leg needs 997.16 USD, "
            "900.00 USD available",
        ),
        (
            lambda: plan_open(
                config(max_leverage="3"),
                opportunity("0.4"),
                [],
                legs(long=leg_market("lighter", equity=900)),
            ),
            RefusalRule.MAX_LEVERAGE,
            "risk.max_leverage: lighter would carry 2986.99 USD on 900.00 USD of equity (3.32x",
        ),
        (
            lambda: plan_open(
                config(min_liquidation_distance="0.31"), opportunity("0.4"), [], legs()
            ),
            RefusalRule.LIQUIDATION_DISTANCE,
            "risk.min_liquidation_distance: at 3x on lighter liquidation is about 0.3083",
        ),
        (
            lambda: plan_open(
                config(),
                opportunity("0.4"),
                [],
                legs(
                    short=leg_market(
                        "hyperliquid",
                        positions={
                            "SOL": Position(
                                "hyperliquid",
                                "SOL",
                                D(-5),
                                D(150),
                                D(150),
                                D(0),
                                None,
                                D(250),
                                D(3),
                            )
                        },
                    )
                ),
            ),
            RefusalRule.FOREIGN_POSITION,
            "hyperliquid already holds -5 SOL that is not a position of this strategy",
        ),
    ],
)
def test_an_open_beyond_a_limit_is_refused_with_the_limit_named(
    make: Check, rule: RefusalRule, reason: str
):
    refusal = make()
    assert isinstance(refusal, OpenRefused) and refusal.rule is rule
    assert refusal.detail.startswith(reason)


def test_a_size_below_the_minimum_is_refused():
    tiny = config().model_copy(
        update={"sizing": config().sizing.model_copy(update={"position_size_usd": D(10)})}
    )
    refusal = plan_open(tiny, opportunity("0.4"), [], legs())
    assert isinstance(refusal, OpenRefused) and refusal.rule is RefusalRule.MIN_SIZE
    assert refusal.detail.startswith("sizing.position_size_usd 10 buys 0.0 SOL")


# ---------------------------------------------------------------- transfers


def venue(name: str, minimum: int, target: int) -> VenueSettings:
    return VenueSettings(
        name=name, min_free_margin_usd=D(minimum), target_free_margin_usd=D(target)
    )


def balance(name: str, available: str) -> Balance:
    return Balance(name, "USDC", D(available), D(available), D(0))


def test_a_venue_short_of_margin_is_topped_up_from_the_one_with_most_excess():
    venues = [venue("a", 500, 1000), venue("b", 500, 1000), venue("c", 500, 1000)]
    balances = {"a": balance("a", "200"), "b": balance("b", "1500"), "c": balance("c", "1900")}
    assert transfer_needs(balances, venues) == [
        TransferNeed("c", "a", D("800.00"), "a has 200.00 USD free margin, below its minimum")
    ]


def test_a_large_need_is_split_across_donors_and_nothing_moves_without_a_need():
    venues = [venue("a", 500, 2000), venue("b", 500, 1000), venue("c", 500, 1000)]
    balances = {"a": balance("a", "0"), "b": balance("b", "1500"), "c": balance("c", "2000")}
    needs = transfer_needs(balances, venues)
    assert [(n.from_venue, n.to_venue, n.amount_usd) for n in needs] == [
        ("c", "a", D("1000.00")),
        ("b", "a", D("500.00")),
    ]
    balances["a"] = balance("a", "600")
    assert transfer_needs(balances, venues) == []

"""A paused funding arbitrage, built the way its tasks build it: it closes, never opens.

A SWITCH decided while paused closes the old pair and leaves the new one unopened; an open
phase, even run directly, opens nothing; no order that is not reduce-only leaves the process.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import PositionStatus
from core.settings import load_settings
from db.models import Order
from db.repositories.runs import ControlRepository
from db.uow import unit_of_work
from strategies.factory import load_strategy_config
from strategies.implementations.funding_arbitrage.decisions import (
    OpenRefused,
    RebalanceAction,
    RefusalRule,
)
from strategies.runtime import Runtime, VenueAccount

from .conftest import D, Market, base_config
from .test_rebalance import eth

PAUSED = "strategy arb is paused: maintenance"


def _runtime(market: Market) -> Runtime:
    config = load_strategy_config(
        base_config(
            symbols=["ETH", "SOL"],
            rebalance={"type": "better_opportunity", "min_gain_usd": "10"},
        )
    )
    return Runtime(
        settings=load_settings(PERPBOT_MODE="paper"),
        engine=market.engine,
        clock=market.clock,
        configs={config.name: config},
        clients={VenueAccount(name): client for name, client in market.venues.items()},
    )


def _orders(market: Market) -> list[tuple[str, bool]]:
    with Session(market.engine) as session:
        rows = session.execute(
            select(Order.client_order_id, Order.reduce_only).order_by(Order.created_at)
        ).all()
    return [(client_id, reduce_only) for client_id, reduce_only in rows]


def test_a_switch_while_paused_closes_the_old_pair_and_opens_nothing(market: Market):
    eth(market, sol_short_rate="0.0002")
    runtime = _runtime(market)
    assert runtime.exposure_block("arb") is None
    assert runtime.build("arb").open_positions(market.clock.now()).ok
    [position] = runtime.build("arb").position_manager.find("arb")
    assert position.status is PositionStatus.OPEN
    with unit_of_work(market.engine) as session:
        ControlRepository(session).set_paused("arb", True, "maintenance")
    blocked = runtime.exposure_block("arb")
    assert blocked == PAUSED
    before = _orders(market)

    market.advance_to(1)
    market.collect()
    strategy = runtime.build("arb", no_new_exposure=blocked)
    result = strategy.rebalance(market.clock.now())
    assert result.ok, result.error
    [outcome] = result.actions
    assert outcome.decision.action is RebalanceAction.SWITCH
    assert outcome.done == "closed; new pair refused (see events)"
    assert strategy.position_manager.get(position.id).status is PositionStatus.CLOSED
    [refusal] = market.events("open.refused")
    assert refusal.payload["opportunity"] == ["SOL", "lighter", "hyperliquid"]
    assert refusal.payload["rule"] == RefusalRule.NO_NEW_EXPOSURE
    assert refusal.payload["reason"].endswith(f"no new exposure may be taken ({PAUSED})")
    # An open phase run anyway (the tasks skip it) opens nothing either.
    opened = strategy.open_positions(market.clock.now())
    assert opened.ok and opened.actions
    assert all(
        isinstance(a, OpenRefused)
        and a.rule is RefusalRule.NO_NEW_EXPOSURE
        and a.detail.endswith(f"({PAUSED})")
        for a in opened.actions
    )

    assert [p.status for p in strategy.position_manager.find("arb")] == [PositionStatus.CLOSED]
    sent_while_paused = _orders(market)[len(before) :]
    assert sent_while_paused and all(reduce_only for _, reduce_only in sent_while_paused)
    for symbol in ("ETH", "SOL"):
        assert (market.held("lighter", symbol), market.held("hyperliquid", symbol)) == (D(0), D(0))

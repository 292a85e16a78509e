"""Route choice over bridge protocols: total cost (fee + time value), down ones skipped.

The protocols here are small in-memory implementations of the `BridgeProtocol` port: the
route choice is pure and these tests are about it; the PostgreSQL-backed paper protocols are
tested in tests/integration/transfers.
"""

from datetime import timedelta
from decimal import Decimal

import pytest

from exchanges.base import MovementReceipt
from exchanges.bridges.base import BridgeQuote, BridgeRoute
from strategies.implementations.funding_arbitrage.operations.bridge_manager import (
    BridgeManager,
    NoBridgeAvailableError,
    NoBridgeRouteError,
)

ROUTE = BridgeRoute("arbitrum", "ethereum", "USDC")


class Quoting:
    def __init__(self, name, fee, minutes, up=True, chains=("arbitrum", "ethereum")):
        self.name, self.fee, self.minutes, self.up, self.chains = (
            name,
            Decimal(fee),
            minutes,
            up,
            chains,
        )

    def available(self):
        return self.up

    def supports(self, route):
        return route.from_chain in self.chains and route.to_chain in self.chains

    def quote(self, route, amount):
        return BridgeQuote(self.name, route, amount, self.fee, timedelta(minutes=self.minutes))

    def send(self, key, route, amount, from_address, to_address) -> MovementReceipt:
        raise AssertionError("route choice never sends")

    def status(self, key):
        return None


def test_the_cheapest_total_cost_wins_when_time_costs_nothing():
    manager = BridgeManager([Quoting("fast", "2", 1), Quoting("slow", "0", 30)])
    assert manager.best(ROUTE, Decimal(10_000)).protocol == "slow"


def test_time_in_flight_is_weighed_against_the_fee():
    # 0.0001 per hour on 100,000: 30 minutes cost 5, one minute about 0.17.
    manager = BridgeManager([Quoting("fast", "2", 1), Quoting("slow", "0", 30)], Decimal("0.0001"))
    assert manager.best(ROUTE, Decimal(100_000)).protocol == "fast"
    assert manager.total_cost(manager.quote(ROUTE, Decimal(100_000))[1]) == Decimal(5)


def test_a_protocol_that_is_down_is_skipped():
    manager = BridgeManager([Quoting("cheap", "0", 5, up=False), Quoting("dear", "3", 5)])
    assert manager.best(ROUTE, Decimal(1000)).protocol == "dear"


def test_all_protocols_down_is_transient_not_a_refusal():
    manager = BridgeManager([Quoting("a", "0", 5, up=False)])
    with pytest.raises(NoBridgeAvailableError, match="available right now"):
        manager.best(ROUTE, Decimal(1000))


def test_a_route_no_protocol_serves_is_refused_naming_the_chains():
    manager = BridgeManager([Quoting("a", "0", 5)])
    with pytest.raises(
        NoBridgeRouteError, match="no bridge protocol connects arbitrum to starknet"
    ):
        manager.best(BridgeRoute("arbitrum", "starknet", "USDC"), Decimal(1000))


def test_a_fee_that_eats_the_amount_is_no_route():
    manager = BridgeManager([Quoting("a", "20", 5)])
    with pytest.raises(NoBridgeAvailableError):
        manager.best(ROUTE, Decimal(15))


def test_an_excluded_protocol_is_not_chosen():
    manager = BridgeManager([Quoting("a", "0", 5), Quoting("b", "1", 5)])
    assert manager.best(ROUTE, Decimal(1000), exclude={"a"}).protocol == "b"


def test_protocol_names_must_be_unique():
    with pytest.raises(ValueError, match="unique"):
        BridgeManager([Quoting("a", "0", 5), Quoting("a", "1", 5)])

"""Fuzz the venue boundary: every adapter method on every venue, fed hostile answers (the
venue's recorded answers with leaves replaced by hostile values, or random JSON) through the
real ccxt parsers. Whatever comes back, nothing escapes but a typed `ExchangeError`."""

from __future__ import annotations

import contextlib
import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.enums import OrderSide, OrderType
from exchanges.base import ExchangeError, OrderRequest
from exchanges.support_matrix import VENUE_ORDER
from tests.venues.common import at
from tests.venues.harness import ReplayVenue, load, url_path

HOSTILE = st.sampled_from(
    [
        None,
        "",
        "NaN",
        "inf",
        "-inf",
        "1e400",
        1e308,
        -1,
        0,
        "-0",
        "abc",
        [],
        {},
        True,
        2**70,
        "9" * 40,
        "1e-400",
        1e20,
        "1e20",
        -1e20,
        {"a": None},
        [None],
        "null",
    ]
)
LEAF = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
RANDOM_JSON = st.recursive(
    LEAF,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)
CALLS = {
    "instruments": lambda c, s: c.instruments(),
    "funding_rates": lambda c, s: c.funding_rates([s]),
    "top_of_book": lambda c, s: c.top_of_book(s),
    "place_order": lambda c, s: c.place_order(
        OrderRequest("fuzz-1", s, OrderSide.BUY, OrderType.LIMIT, Decimal("0.01"), Decimal(100))
    ),
    "get_order": lambda c, s: c.get_order(s, "fuzz-1"),
    "cancel_order": lambda c, s: c.cancel_order(s, "fuzz-1"),
    "positions": lambda c, s: c.positions(),
    "balance": lambda c, s: c.balance(),
    "deposit_address": lambda c, s: c.deposit_address("USDC", "ERC20"),
    "get_deposit": lambda c, s: c.get_deposit("0xabc"),
}


def recorded_answers(venue: str) -> tuple[dict[str, list[Any]], list[Any]]:
    """The venue's recorded answers by the URL path ccxt asked for them, and all of them."""
    requests, responses = load("request", venue)["methods"], load("response", venue)["methods"]
    by_path: dict[str, list[Any]] = {}
    for method, cases in responses.items():
        for request in requests.get(method, [])[:1]:
            by_path.setdefault(url_path(request["url"]), []).extend(
                c["httpResponse"] for c in cases
            )
    every = [c["httpResponse"] for cases in responses.values() for c in cases]
    return by_path, every


def mutate(data: st.DataObject, answer: Any) -> Any:
    """The answer with some leaves replaced by hostile values."""
    if isinstance(answer, dict):
        return {k: mutate(data, v) for k, v in answer.items()}
    if isinstance(answer, list):
        return [mutate(data, v) for v in answer]
    return data.draw(HOSTILE) if data.draw(st.integers(0, 5)) == 0 else answer


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("venue", VENUE_ORDER)
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hostile_answers_end_in_typed_errors_only(venue, call, data):
    replay = ReplayVenue(venue, markets="none" if venue == "apex" else None)
    markets = replay.exchange.load_markets() if venue != "apex" else {}
    symbol = next((m["base"] for m in markets.values() if m.get("swap")), "BTC")
    by_path, every = recorded_answers(venue)

    def hostile(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        if data.draw(st.integers(0, 4)) == 0:
            return json.loads(json.dumps(data.draw(RANDOM_JSON)))
        pool = by_path.get(url_path(url)) or every
        return mutate(data, copy.deepcopy(data.draw(st.sampled_from(pool))))

    replay.exchange.fetch = hostile
    client = replay.client(at("2025-08-11T20:00:00+00:00"))
    with contextlib.suppress(ExchangeError):  # a typed refusal is a right answer
        CALLS[call](client, symbol)

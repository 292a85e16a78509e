"""Aster: ccxt 4.5.90 talks to Aster's v3 API, the recordings hold the v1/v4 API, so no
request ccxt makes is one the recordings show and everything is refused."""

import pytest

from tests.venues.common import ALL, assert_refused, at, refusal_calls
from tests.venues.harness import recorded_request_mismatch

VERIFIED: set[object] = set()


def test_nothing_is_offered(replay):
    assert replay("aster").client(at("2025-06-17T08:00:00+00:00")).capabilities() == VERIFIED


@pytest.mark.parametrize("capability", sorted(ALL))
def test_everything_is_refused_with_the_reason(replay, capability):
    aster = replay("aster").client(at("2025-06-17T08:00:00+00:00"))
    assert_refused(aster, capability, refusal_calls(aster)[capability])


@pytest.mark.parametrize(
    ("method", "description", "sent"),
    [
        ("fetchFundingRates", "fetchFundingRates", "/fapi/v3/premiumIndex"),
        ("fetchOrderBook", "fetchOrderBook", "/fapi/v3/depth"),
        ("createOrder", "limit buy order", "/fapi/v3/builder"),
        ("fetchPositions", "fetchPositions", "/fapi/v3/builder"),
    ],
)
def test_the_requests_ccxt_builds_are_not_the_recorded_ones(method, description, sent):
    assert recorded_request_mismatch("aster", method, description).startswith(f"path {sent} ")

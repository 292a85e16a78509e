"""ApeX: the recordings hold no market list with perpetuals, no funding, book, order
lookup, position or balance, so everything is refused."""

import pytest

from tests.venues.common import ALL, assert_refused, at, refusal_calls

VERIFIED: set[object] = set()


def client(replay):
    return replay("apex", markets="none").client(at("2025-06-21T10:00:00+00:00"))


def test_nothing_is_offered(replay):
    assert client(replay).capabilities() == VERIFIED


@pytest.mark.parametrize("capability", sorted(ALL))
def test_everything_is_refused_with_the_reason(replay, capability):
    apex = client(replay)
    assert_refused(apex, capability, refusal_calls(apex)[capability])

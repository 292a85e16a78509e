"""Venue tests: each builds `ReplayVenue`s through `replay`, which fails the test if the
adapter sent a request the recordings have no answer for (even one ccxt swallowed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.venues.harness import ReplayVenue


@pytest.fixture
def replay() -> Iterator[Callable[..., ReplayVenue]]:
    made: list[ReplayVenue] = []

    def make(venue: str, **kwargs: object) -> ReplayVenue:
        venue_replay = ReplayVenue(venue, **kwargs)  # type: ignore[arg-type]
        made.append(venue_replay)
        return venue_replay

    yield make
    unexpected = [message for venue_replay in made for message in venue_replay.unexpected]
    assert not unexpected, f"requests the recordings do not answer: {unexpected}"

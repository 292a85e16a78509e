"""The polling helper the integration tests wait with."""

import itertools
import time

import pytest

from tests.support.waiting import wait_until


def test_returns_the_first_truthy_answer():
    answers = iter([None, [], ["ready"]])
    assert wait_until(lambda: next(answers), timeout=5, message="never", interval=0) == ["ready"]


def test_fails_after_the_deadline_saying_what_was_seen():
    calls = itertools.count()
    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"^not within 0.05 s: seen \d+ calls$"):
        wait_until(lambda: next(calls) < 0, 0.05, lambda: f"seen {next(calls)} calls", 0.01)
    assert time.monotonic() - started >= 0.05

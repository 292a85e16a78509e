"""docs/venues.md's support matrix is the one the code derives, and each venue's test
module verifies exactly the capabilities the matrix marks verified."""

import importlib
from pathlib import Path

import pytest

from exchanges.support_matrix import END, START, VENUE_ORDER, render, verified

DOC = Path(__file__).resolve().parents[2] / "docs" / "venues.md"


def test_the_documented_matrix_is_the_derived_one():
    text = DOC.read_text()
    documented = text[text.index(START) : text.index(END) + len(END)]
    assert documented == render(), "run `python -m exchanges.support_matrix` and paste it"


@pytest.mark.parametrize("venue", VENUE_ORDER)
def test_each_venue_module_verifies_what_the_matrix_says(venue):
    module = importlib.import_module(f"tests.venues.test_{venue}")
    assert verified(venue) == module.VERIFIED

"""Each venue's client id, derived from ours: deterministic, in the form the venue takes."""

import re

import pytest

from exchanges.venue_quirks import all_quirks, quirks_for

OURS = "arb-5f0c2a9e-0d7b-4a61-9a5e-2f7f3c1d8b42-open"  # 45 characters, as perpbot makes


@pytest.mark.parametrize(
    ("venue", "form"),
    [
        ("hyperliquid", r"0x[0-9a-f]{32}"),
        ("aster", r"[.A-Z:/a-z0-9_-]{1,36}"),
        ("dydx", r"[1-9]\d{0,9}"),
        ("backpack", r"[1-9]\d{0,9}"),
        ("lighter", r"[1-9]\d{0,14}"),
        ("grvt", r"[1-9]\d{0,18}"),
        ("paradex", re.escape(OURS)),
        ("extended", re.escape(OURS)),
        ("apex", re.escape(OURS)),
    ],
)
def test_the_id_has_the_venues_form(venue, form):
    venue_id = quirks_for(venue).client_ids.derive(OURS)
    assert re.fullmatch(form, venue_id), venue_id


@pytest.mark.parametrize(
    ("venue", "largest"),
    [("dydx", 2**32 - 1), ("backpack", 2**32 - 1), ("lighter", 2**48 - 1), ("grvt", 2**63 - 1)],
)
def test_integer_ids_stay_within_the_venues_width_and_go_to_ccxt_as_ints(venue, largest):
    ids = quirks_for(venue).client_ids
    values = [ids.ccxt_value(ids.derive(f"pos-{i}-open")) for i in range(500)]
    assert all(isinstance(v, int) and 1 <= v <= largest for v in values)
    assert len(set(values)) == 500


def test_ids_are_deterministic_and_distinct_per_intent():
    for quirks in all_quirks().values():
        ids = quirks.client_ids
        assert ids.derive(OURS) == ids.derive(OURS)
        assert ids.derive(OURS) != ids.derive(OURS.replace("open", "close"))


def test_a_short_id_the_venue_accepts_is_kept_readable():
    assert quirks_for("aster").client_ids.derive("grid-12-buy") == "grid-12-buy"
    assert quirks_for("aster").client_ids.derive("grid 12") != "grid 12"  # space: hashed

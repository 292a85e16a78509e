"""Speed work must not change a decision: short windows' results, pinned to the last digit.

Each case runs the real strategy through a window and compares the whole report piece (the
policy's figures, the pairs, the hourly series) with the value recorded before the backtest
was made faster: a readable subset as Decimal strings, the rest as a digest of the piece's
JSON. A change to the strategy's decisions, the venues' fills or funding, or the history's
loading shows up here as a different number.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backtest import engine
from backtest.history import load_data
from backtest.metrics import measure
from backtest.report import run_piece
from backtest.runner import BacktestRequest, load, run_variant
from bench.bench_backtest import DATA, SYMBOLS, VENUES, _strategy_config
from core.clock import ManualClock
from core.settings import PROJECT_ROOT

SAMPLE = PROJECT_ROOT / "data" / "sample" / "funding-history"
CONFIG = PROJECT_ROOT / "configs" / "backtest" / "funding_arbitrage.yaml"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
FIGURES = ("net_pnl", "funding_received", "funding_paid", "fees", "opens", "closes", "switches")


def _pinned(piece: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    text = json.dumps(piece, sort_keys=True, default=str)
    figures = {key: piece["policy"][key] for key in FIGURES}
    return hashlib.sha256(text.encode()).hexdigest()[:16], figures


def _sample(start: datetime, end: datetime, policies: tuple[str, ...]) -> dict[str, Any]:
    request = BacktestRequest(CONFIG, SAMPLE, start, end, policies)
    data = load(request, ManualClock(NOW), [])
    return {v.key: _pinned(run_variant(request, v, data)) for v in request.variants()}


def test_three_policies_on_a_month_of_the_sample_give_the_recorded_results():
    found = _sample(
        datetime(2025, 9, 1, tzinfo=UTC),
        datetime(2025, 10, 1, tzinfo=UTC),
        ("config", "profit_erosion", "divergence_flip"),
    )
    assert found == {
        "config": (
            "50c0fa304c4178f7",
            {
                "net_pnl": "-147.180177759921270828",
                "funding_received": "15.388912960228222660",
                "funding_paid": "2.473937510149493488",
                "fees": "131.945353210000000000",
                "opens": 14,
                "closes": 13,
                "switches": 0,
            },
        ),
        "profit_erosion": (
            "6ef90da04de64c84",
            {
                "net_pnl": "-163.416048752864086238",
                "funding_received": "10.107315130770244288",
                "funding_paid": "1.322937718634330526",
                "fees": "141.940626165000000000",
                "opens": 15,
                "closes": 14,
                "switches": 0,
            },
        ),
        "divergence_flip": (
            "550f7de482626805",
            {
                "net_pnl": "-84.356403241125304428",
                "funding_received": "43.399855189978838269",
                "funding_paid": "15.128511736104142697",
                "fees": "92.883446695000000000",
                "opens": 10,
                "closes": 9,
                "switches": 0,
            },
        ),
    }


def test_a_window_with_switches_gives_the_recorded_results():
    # Positions opened in one cycle are listed in the order they were opened (sequential
    # ids): with random ids this window gave a different result from one run to the next.
    found = _sample(
        datetime(2025, 10, 1, tzinfo=UTC), datetime(2025, 10, 28, tzinfo=UTC), ("config",)
    )
    assert found == {
        "config": (
            "97981d385a39127c",
            {
                "net_pnl": "-368.600422188667137461",
                "funding_received": "61.927324128766056071",
                "funding_paid": "61.387662847433193532",
                "fees": "304.917483470000000000",
                "opens": 31,
                "closes": 31,
                "switches": 6,
            },
        ),
    }


@pytest.mark.skipif(not DATA.exists(), reason="bench data not present")
def test_eighteen_symbols_on_three_venues_give_the_recorded_results():
    start = datetime(2025, 10, 1, tzinfo=UTC)
    data = load_data(
        DATA, VENUES, SYMBOLS, start, start + timedelta(days=10), ManualClock(NOW), skipped=[]
    )
    result = engine.run("config", _strategy_config(), data)
    digest, figures = _pinned(run_piece(measure(result), result))
    assert (digest, figures["net_pnl"], figures["fees"]) == (
        "004c391e956409b6",
        "-960.153964964876716794",
        "804.467328685000000000",
    )
    assert (figures["opens"], figures["closes"], figures["switches"]) == (87, 84, 29)

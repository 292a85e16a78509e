"""The grid through history: the sample's Binance ETH marks as its price series."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from backtest import engine
from backtest.history import load_data
from backtest.metrics import measure
from core.clock import ManualClock
from core.enums import LedgerKind, Liquidity, OrderSide
from core.settings import PROJECT_ROOT
from exchanges.simulation.margin import unrealized_pnl
from trading_bot import app

SAMPLE = PROJECT_ROOT / "data" / "sample" / "funding-history"
CONFIG = PROJECT_ROOT / "configs" / "backtest" / "grid.yaml"
START, END = datetime(2025, 9, 1, tzinfo=UTC), datetime(2025, 10, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def result():
    data = load_data(
        SAMPLE, ["binance"], ["ETH"], START, END, ManualClock(datetime(2026, 12, 1, tzinfo=UTC))
    )
    return engine.run("config", yaml.safe_load(CONFIG.read_text()), data)


def test_the_grid_buys_low_and_sells_high_on_the_series(result):
    figures = measure(result).grid
    assert figures is not None
    assert figures.buys > 0 and figures.sells > 0 and figures.maker_fills > 0
    state = result.venues["binance"]
    for fill in state.fills:  # a resting order fills only once the price has reached it
        if fill.liquidity is not Liquidity.MAKER:
            continue
        mark = state.market.latest(["ETH"], fill.filled_at)["ETH"].mark_price
        if fill.side is OrderSide.BUY:
            assert mark <= fill.price, fill
        else:
            assert mark >= fill.price, fill


def test_the_grid_figures_add_up_to_the_venue_books(result):
    m = measure(result)
    assert m.grid is not None
    state = result.venues["binance"]
    realized = sum(
        (e.amount for e in state.ledger if e.kind is LedgerKind.REALIZED_PNL), Decimal(0)
    )
    assert m.grid.realized_pnl == realized
    assert m.grid.volume_usd == sum((f.price * f.qty for f in state.fills), Decimal(0))
    # Equity moved by what the venue booked, plus the open position marked to market.
    account = state.find_account(result.accounts["binance"])
    assert account is not None
    end = result.steps[-1]
    held = state.book.holdings_of(account.key)
    marks = state.market.latest([h.symbol for h in held], end.at)
    unrealized = sum(
        (unrealized_pnl(h.state, marks[h.symbol].mark_price) for h in held), Decimal(0)
    )
    booked = realized - m.fees + m.funding_received - m.funding_paid
    assert end.equity == m.capital + booked + unrealized
    assert m.slippage == 0 or any(f.liquidity is Liquidity.TAKER for f in state.fills)


def test_the_backtest_command_prints_the_grid_rows(tmp_path: Path):
    run = CliRunner().invoke(
        app,
        [
            "backtest",
            str(CONFIG),
            "--data",
            str(SAMPLE),
            "--from",
            "2025-09-01",
            "--to",
            "2025-10-01",
            "--out",
            str(tmp_path),
            "--in-process",
        ],
        env={"COLUMNS": "160"},
    )
    assert run.exit_code == 0, run.output
    assert "grid fills: buys / sells" in run.output and "grid realised trading PnL" in run.output
    assert "prices: each venue its own mark prices" in run.output
    (folder,) = tmp_path.iterdir()
    (policy,) = json.loads((folder / "report.json").read_text())["policies"]
    assert policy["grid"]["buys"] > 0 and Decimal(policy["grid"]["volume_usd"]) > 0

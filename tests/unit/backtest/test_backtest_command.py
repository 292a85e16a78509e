"""`trading_bot.py backtest` on a short window of the sample: the table, the report files."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.settings import PROJECT_ROOT, get_settings
from trading_bot import app

SAMPLE = PROJECT_ROOT / "data" / "sample" / "funding-history"
CONFIG = PROJECT_ROOT / "configs" / "backtest" / "funding_arbitrage.yaml"
MONEY = (
    "net_pnl",
    "funding_received",
    "funding_paid",
    "fees",
    "slippage",
    "apr_on_capital",
    "max_drawdown",
    "worst_unhedged_usd",
)


def _backtest(*extra: str) -> list[str]:
    return [
        "backtest",
        str(CONFIG),
        "--data",
        str(SAMPLE),
        "--from",
        "2025-09-01",
        "--to",
        "2025-09-06",
        *extra,
    ]


def test_the_sample_window_prints_policies_side_by_side_and_writes_the_report(tmp_path: Path):
    result = CliRunner().invoke(
        app,
        _backtest("--policy", "config", "--policy", "divergence_flip", "--out", str(tmp_path)),
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    for label in (
        "net PnL (USD)",
        "funding received",
        "opens / closes / switches",
        "APR on capital used",
        "max drawdown",
        "worst unhedged (USD)",
    ):
        assert label in result.output
    assert "divergence_flip" in result.output and "Pairs traded" in result.output
    assert "prices: binance mark_price" in result.output
    (folder,) = tmp_path.iterdir()
    document = json.loads((folder / "report.json").read_text())
    assert document["run_id"] == folder.name
    assert {
        "run_id",
        "created_at",
        "config",
        "data",
        "from",
        "to",
        "price_proxy",
        "policies",
    } <= set(document)
    assert (document["from"], document["to"]) == ("2025-09-01", "2025-09-06")
    assert document["created_at"].endswith("+00:00")
    assert "no price for bybit, hyperliquid" in document["price_proxy"]
    assert [p["policy"] for p in document["policies"]] == ["config", "divergence_flip"]
    for policy in document["policies"]:
        for key in MONEY:
            assert isinstance(policy[key], str)
            Decimal(policy[key])  # a Decimal string, not a float
        assert policy["opens"] >= policy["closes"] >= 0
        # What the venues booked adds up: net = funding in - funding out - fees + trading.
        assert Decimal(policy["net_pnl"]) < Decimal(policy["funding_received"])
    html = (folder / "report.html").read_text()
    assert "plotly.js" in html[:20000] or "Plotly" in html  # the library itself, inline
    assert "<script src=" not in html  # nothing fetched: it opens offline
    assert "Equity per policy" in html and "Contribution per pair" in html


def test_the_report_folder_follows_the_environment(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PERPBOT_BACKTEST_DIR", str(tmp_path / "reports"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, _backtest("--to", "2025-09-02"))
    finally:
        monkeypatch.delenv("PERPBOT_BACKTEST_DIR")
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "reports").glob("*/report.json"))) == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--policy", "never"), "--policy 'never': unknown policy"),
        (("--sweep", "rebalance.nothing.here=1"), "the config has no rebalance.nothing"),
        (("--sweep", "rebalance"), "expected path=value1,value2"),
    ],
)
def test_bad_options_fail_naming_what_is_wrong(extra, message):
    result = CliRunner().invoke(app, _backtest(*extra, "--in-process"))
    assert result.exit_code == 2
    assert message in result.output

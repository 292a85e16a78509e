"""`trading_bot.py data ...` end to end on the test database."""

import ccxt
from typer.testing import CliRunner

from core.settings import PROJECT_ROOT
from trading_bot import app

SAMPLE = str(PROJECT_ROOT / "data" / "sample" / "funding-history")


def run(*args):
    return CliRunner().invoke(app, ["data", *args], env={"COLUMNS": "200"})


def test_import_list_and_screen_the_sample(clean_db):
    imported = run("import", SAMPLE)
    assert imported.exit_code == 0, imported.output
    assert "39,495 rows read, 39,495 new, 0 already stored, 0 skipped" in imported.output
    assert "hyperliquid" in imported.output and "USDT" in imported.output
    again = run("import", SAMPLE)
    assert "39,495 rows read, 0 new, 39,495 already stored" in again.output

    listed = run("list", "--symbol", "BTC")
    assert listed.exit_code == 0, listed.output
    lines = [line for line in listed.output.splitlines() if " BTC " in line]
    assert len(lines) == 5  # binance and bybit USDT + USDC, hyperliquid USDC
    assert any("8,785" in line and "hyperliquid" in line for line in lines)

    screened = run("screen", "--fees-bps", "0", "--min-apr", "5", "--symbols", "ETH", "-n", "3")
    assert screened.exit_code == 0, screened.output
    assert "threshold 5.00% APR" in screened.output
    assert "16 pairs from 13,165 settlements" in screened.output


def test_a_bad_file_is_bad_input_and_imports_nothing(clean_db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "venue,canonical_symbol,settlement_ts,rate_raw,interval_hours\n"
        "bybit,ETH-USDT-PERP,2026-03-01T00:00:00Z,0.0001,8\n"
        "bybit,ETH-USDT-PERP,2026-03-01T08:00:00Z,1e400,8\n"
    )
    result = run("import", str(bad))
    assert result.exit_code == 2
    assert "bad.csv: line 3" in result.output and "nothing was imported" in result.output
    assert "no funding history stored" in run("list").output


def test_fetch_without_network_says_so(clean_db, monkeypatch):
    import exchanges.ccxt_venues as venues

    real = venues.make_ccxt_exchange

    def offline(venue, *args, **kwargs):
        exchange = real(venue, *args, **kwargs)

        def no_network(*a, **k):
            raise ccxt.NetworkError(f"{venue} GET https://api.{venue}.com: no route to host")

        exchange.fetch = no_network
        return exchange

    monkeypatch.setattr(venues, "make_ccxt_exchange", offline)
    monkeypatch.setattr("funding_service.history.fetch.READ_ATTEMPTS", 1)
    result = run(
        "fetch", "--venue", "binance", "--symbol", "BTC-USDT-PERP", "--since", "2026-01-01"
    )
    assert result.exit_code == 1
    assert "cannot reach binance (is there network access?)" in result.output
    unknown = run("fetch", "--venue", "nosuchvenue", "--symbol", "BTC", "--since", "2026-01-01")
    assert unknown.exit_code == 2 and "not a ccxt exchange id" in unknown.output

"""`trading_bot.py venues check` against recorded traffic: what works, what is refused."""

from typer.testing import CliRunner

from cli.venues import FAILED, OK, REFUSED, SKIPPED, check_venue
from tests.venues.common import at
from trading_bot import app


def results(lines):
    return {line.capability: (line.result, line.detail) for line in lines}


def test_backpack_funding_and_positions_work_the_rest_is_refused_with_reasons(replay):
    venue = replay("backpack")
    venue.serve("fetchFundingRate")
    venue.serve("fetchPositions")
    client = venue.client(at("2025-08-11T20:00:00+00:00"))
    found = results(check_venue("backpack", client, "ETH"))
    assert found["funding_rates"] == (
        OK,
        "ETH 0.0001 per 8 h (10.95 % APR) at 2025-08-11 20:00 UTC",
    )
    assert found["positions"] == (OK, "1 open")
    assert found["instruments"][0] == REFUSED and "market list" in found["instruments"][1]
    assert found["order_book"][0] == REFUSED and found["balance"][0] == REFUSED
    assert not venue.sent_to(r"/api/v1/order")  # read-only: nothing placed


def test_private_reads_without_credentials_are_skipped_by_name(replay):
    venue = replay("dydx")
    venue.serve("fetchOrderBook")
    client = venue.client(at("2025-07-29T06:00:00+00:00"))
    missing = ["PERPBOT_DYDX_PRIVATE_KEY", "PERPBOT_DYDX_WALLET_ADDRESS"]
    found = results(check_venue("dydx", client, "BTC", missing))
    assert found["order_book"] == (OK, "BTC 118267.0 / 118485.0")
    assert found["balance"] == (SKIPPED, f"no credentials: set {', '.join(missing)}")
    assert found["positions"][0] == SKIPPED
    assert found["funding_rates"][0] == REFUSED


def test_a_venue_answer_that_fails_the_checks_is_a_failure_line(replay):
    venue = replay("grvt")
    venue.serve(
        "fetchFundingRateHistory", patch=lambda a: a["result"][0].update(funding_rate="1e9")
    )
    venue.serve("fetchOrderBook")
    venue.serve("fetchBalance")
    found = results(check_venue("grvt", venue.client(at("2026-01-12T17:00:00+00:00")), "BTC"))
    assert found["funding_rates"][0] == FAILED and "fundingRate" in found["funding_rates"][1]
    assert found["order_book"][0] == OK and found["balance"][0] == OK


def test_the_command_prints_the_table_and_exits_by_what_failed(replay):
    venue = replay("lighter")
    venue.serve("fetchOrderBook")
    obj = {"exchanges": {"lighter": venue.exchange}, "clock": at("2025-12-10T12:00:00+00:00")}
    result = CliRunner().invoke(app, ["venues", "check", "lighter", "--symbol", "ETH"], obj=obj)
    assert result.exit_code == 0, result.output
    assert "lighter" in result.output and "refused" in result.output and "ok" in result.output
    unknown = CliRunner().invoke(app, ["venues", "check", "binance"], obj=obj)
    assert unknown.exit_code == 2 and "unknown venue binance" in unknown.output

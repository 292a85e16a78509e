"""`trading_bot.py transfer ...` against the test database and the shipped config."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from core.clock import SystemClock
from core.enums import TransferStatus as S
from core.settings import get_settings
from db.models import FundTransfer
from strategies.runtime import reset_runtime
from strategies.transfer_wiring import build_transfer_manager
from trading_bot import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def fresh_runtime():
    """The CLI uses the process's runtime: each test gets one built from its settings."""
    get_settings.cache_clear()
    reset_runtime()
    yield
    get_settings.cache_clear()
    reset_runtime()


def _manager(engine):
    return build_transfer_manager(engine=engine, clock=SystemClock())


def test_create_stores_the_transfer_and_list_shows_it(clean_db):
    created = runner.invoke(
        app,
        [
            "transfer",
            "create",
            "--from",
            "hyperliquid",
            "--to",
            "lighter",
            "--amount",
            "250.5",
            "--reason",
            "top up lighter",
        ],
    )
    assert created.exit_code == 0, created.output
    assert "created and enqueued" in created.output
    [record] = _manager(clean_db).list()
    assert (record.status, record.amount, record.reason) == (
        S.PENDING,
        Decimal("250.5"),
        "top up lighter",
    )
    assert (record.from_chain, record.to_chain) == ("arbitrum", "ethereum")

    again = runner.invoke(
        app, ["transfer", "create", "--from", "hyperliquid", "--to", "lighter", "--amount", "100"]
    )
    assert "already in flight" in again.output

    listed = runner.invoke(app, ["transfer", "list", "--status", "pending"])
    assert listed.exit_code == 0 and str(record.id) in listed.output


def test_bad_input_is_one_line_and_exit_code_2(clean_db):
    unknown = runner.invoke(
        app, ["transfer", "create", "--from", "hyperliquid", "--to", "nowhere", "--amount", "100"]
    )
    assert unknown.exit_code == 2 and "'nowhere' has no transfer route" in unknown.output
    amount = runner.invoke(
        app, ["transfer", "create", "--from", "hyperliquid", "--to", "lighter", "--amount", "lots"]
    )
    assert amount.exit_code == 2 and "--amount" in amount.output
    missing = runner.invoke(app, ["transfer", "retry", "00000000-0000-0000-0000-000000000000"])
    assert missing.exit_code == 2 and "no fund transfer with id" in missing.output
    assert "Traceback" not in unknown.output + amount.output + missing.output


@pytest.mark.parametrize(
    ("amount", "named"),
    [
        ("1e40", "amount 1E+40 USDC is above the transfer policy: at most 25000 USDC"),
        ("1E+999999999", "amount 1E+999999999 USDC is above the transfer policy: at most 25000"),
        ("nan", "amount NaN is not a finite Decimal: a transfer moves 10 to 25000 USDC"),
        ("inf", "amount Infinity is not a finite Decimal: a transfer moves 10 to 25000 USDC"),
        ("-inf", "amount -Infinity is not a finite Decimal"),
        ("-5", "amount -5 is not positive: a transfer moves 10 to 25000 USDC"),
        ("0", "amount 0 is not positive"),
        ("100.1234567", "has 7 decimal places, more than 6 decimals allowed for USDC"),
    ],
)
def test_an_absurd_amount_is_refused_naming_the_amount_and_the_limit(clean_db, amount, named):
    refused = runner.invoke(
        app, ["transfer", "create", "--from", "hyperliquid", "--to", "lighter", "--amount", amount]
    )
    assert refused.exit_code == 2, refused.output
    assert named in " ".join(refused.output.split())
    assert "Traceback" not in refused.output
    assert _transfer_rows(clean_db) == 0


def test_the_route_cap_refuses_at_the_command_line(clean_db):
    manager = _manager(clean_db)
    for index in range(4):  # 4 x 25,000: the shipped cap of 100,000 per route and 24 h
        manager.request_transfer("hyperliquid", "lighter", Decimal(25_000), dedupe_key=str(index))
    refused = runner.invoke(
        app, ["transfer", "create", "--from", "hyperliquid", "--to", "lighter", "--amount", "10"]
    )
    assert refused.exit_code == 2, refused.output
    output = " ".join(refused.output.split())
    assert "the route's cap is 100000 USDC per rolling 24 h" in output
    assert "100000 USDC is used in the 24 h since" in output
    assert _transfer_rows(clean_db) == 4


def test_retry_resolve_and_cancel_from_the_command_line(clean_db):
    manager = _manager(clean_db)
    transfer = manager.request_transfer("extended", "apex", Decimal(300)).record.id
    refused = runner.invoke(app, ["transfer", "retry", str(transfer)])
    assert refused.exit_code == 2 and "only failed or needs_reconcile" in refused.output

    resolve = runner.invoke(
        app, ["transfer", "resolve", str(transfer), "--note", "x", "--outcome", "completed"]
    )
    assert resolve.exit_code == 2 and "resolved by hand" in resolve.output

    cancelled = runner.invoke(app, ["transfer", "cancel", str(transfer), "--note", "not needed"])
    assert cancelled.exit_code == 0, cancelled.output
    assert manager.get(transfer).status is S.CANCELLED


def test_in_live_mode_the_cli_refuses_transfers_and_stores_nothing(clean_db, monkeypatch):
    monkeypatch.setenv("PERPBOT_MODE", "live")
    monkeypatch.setenv("PERPBOT_LIVE_CONFIRM", "true")
    get_settings.cache_clear()
    reset_runtime()
    refused = runner.invoke(
        app, ["transfer", "create", "--from", "hyperliquid", "--to", "lighter", "--amount", "100"]
    )
    assert refused.exit_code == 2, refused.output
    assert "live mode has no live wallet or bridge adapters" in refused.output
    assert "Traceback" not in refused.output
    assert _transfer_rows(clean_db) == 0


def _transfer_rows(engine):
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(FundTransfer)).scalar_one()

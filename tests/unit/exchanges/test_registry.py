"""Choosing the venue client: paper by default, ccxt only when live with credentials."""

import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy import create_engine

from core.clock import ManualClock
from core.errors import ConfigError
from core.settings import LIVE_CONFIRM_PHRASE, load_settings
from exchanges.ccxt_client import CcxtExchangeClient
from exchanges.ccxt_venues import make_ccxt_exchange
from exchanges.paper import PaperExchange, PaperVenueConfig
from exchanges.registry import DryRunConfig, VenueConfig, build_exchange

PAPER = load_settings(PERPBOT_MODE="paper")
LIVE = load_settings(PERPBOT_MODE="live", PERPBOT_LIVE_CONFIRM=LIVE_CONFIRM_PHRASE)
UNCONFIRMED = load_settings(PERPBOT_MODE="live", PERPBOT_LIVE_CONFIRM=None)
DRY_RUN = load_settings(PERPBOT_MODE="dry-run")
ENGINE = create_engine("postgresql+psycopg://nobody@localhost:1/never")  # never connected
SECRET = "0x" + "5e" * 32
CLOCK = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))


class Factory:
    def __init__(self):
        self.calls = []

    def __call__(self, ccxt_id, credentials, timeout_ms):
        self.calls.append((ccxt_id, dict(credentials), timeout_ms))
        return make_ccxt_exchange(ccxt_id, credentials, timeout_ms)


def test_paper_is_the_default():
    config = VenueConfig(account="grid", paper=PaperVenueConfig(leverage=Decimal(3)))
    client = build_exchange("lighter", config=config, settings=PAPER, engine=ENGINE, clock=CLOCK)
    assert isinstance(client, PaperExchange)
    assert (client.name, client.account, client.config.leverage) == ("lighter", "grid", 3)


def test_live_without_the_confirmation_stays_on_paper_and_says_so(caplog):
    with caplog.at_level(logging.WARNING, logger="exchanges.registry"):
        client = build_exchange("apex", settings=UNCONFIRMED, engine=ENGINE)
    assert isinstance(client, PaperExchange)
    assert "PERPBOT_LIVE_CONFIRM" in caplog.text


def test_live_with_credentials_builds_the_ccxt_client_without_logging_them(caplog):
    factory = Factory()
    environ = {
        "PERPBOT_HYPERLIQUID_PRIVATE_KEY": SECRET,
        "PERPBOT_HYPERLIQUID_WALLET_ADDRESS": "0xab",
    }
    with caplog.at_level(logging.DEBUG):
        client = build_exchange(
            "hyperliquid",
            config=VenueConfig(timeout_ms=5_000),
            settings=LIVE,
            environ=environ,
            ccxt_factory=factory,
        )
    assert isinstance(client, CcxtExchangeClient) and client.name == "hyperliquid"
    assert factory.calls == [
        ("hyperliquid", {"privateKey": SECRET, "walletAddress": "0xab"}, 5_000)
    ]
    assert client.exchange.timeout == 5_000
    assert SECRET not in caplog.text and SECRET not in repr(client)


def test_live_without_credentials_is_an_error_naming_the_variables():
    with pytest.raises(ConfigError, match="PERPBOT_BACKPACK_API_KEY") as error:
        build_exchange("backpack", settings=LIVE, environ={})
    assert "paper" not in str(error.value)


def test_live_with_part_of_the_credentials_names_what_is_missing():
    environ = {"PERPBOT_APEX_API_KEY": "key", "PERPBOT_APEX_API_SECRET": "s3cr3t"}
    with pytest.raises(ConfigError, match=r"apex also needs PERPBOT_APEX_PASSWORD$") as error:
        build_exchange("apex", settings=LIVE, environ=environ)
    assert "s3cr3t" not in str(error.value)


def test_live_sub_accounts_come_from_credentials_not_names():
    environ = {"PERPBOT_DYDX_PRIVATE_KEY": SECRET}
    with pytest.raises(ConfigError, match="paper sub-account"):
        build_exchange("dydx", config=VenueConfig(account="arb"), settings=LIVE, environ=environ)


def test_unknown_venue_and_bad_config_are_named():
    with pytest.raises(ConfigError, match="unknown venue 'ftx'"):
        build_exchange("ftx", settings=PAPER, engine=ENGINE)
    with pytest.raises(ValidationError, match="timeout_ms"):
        VenueConfig(timeout_ms=10)
    with pytest.raises(ValidationError, match="account"):
        VenueConfig(account="has space")
    with pytest.raises(ValidationError, match="slippage"):
        VenueConfig.model_validate({"paper": {"slippage": 3}})


def test_dry_run_is_the_paper_venue_reading_the_real_market_without_credentials(caplog):
    factory = Factory()
    environ = {"PERPBOT_HYPERLIQUID_PRIVATE_KEY": SECRET}  # there, and never handed over
    config = VenueConfig(account="arb", dry_run=DryRunConfig(refresh_seconds=2))
    with caplog.at_level(logging.DEBUG):
        client = build_exchange(
            "hyperliquid",
            config=config,
            settings=DRY_RUN,
            engine=ENGINE,
            clock=CLOCK,
            environ=environ,
            ccxt_factory=factory,
        )
    assert isinstance(client, PaperExchange) and client.quotes is not None
    assert (client.account, repr(client)) == (
        "arb",
        "PaperExchange('hyperliquid', account='arb', dry-run)",
    )
    assert factory.calls == [("hyperliquid", {}, 10_000)]
    assert SECRET not in caplog.text
    assert PAPER.is_dry_run is False and DRY_RUN.is_dry_run and not DRY_RUN.is_live


def test_dry_run_settings_are_checked():
    with pytest.raises(ValidationError, match="max_age_seconds must be at least refresh_seconds"):
        DryRunConfig(refresh_seconds=30, max_age_seconds=10)
    with pytest.raises(ValidationError, match="refresh_seconds"):
        DryRunConfig(refresh_seconds=0)

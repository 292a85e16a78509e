"""Routing config: one wallet per chain, allowlist checks with clear refusals."""

import pytest
from pydantic import ValidationError

from core.errors import ConfigError
from strategies.components.transfer_types import (
    DestinationNotAllowedError,
)
from strategies.implementations.funding_arbitrage.operations.transfer_config import (
    TransferRoutingConfig,
)

WALLET = {"chain": "arbitrum", "kind": "wallet", "address": "0xWALLET"}
DEPOSIT = {
    "chain": "arbitrum",
    "kind": "venue_deposit",
    "venue": "extended",
    "address": "0xDEPOSIT",
}


def routing(**changes):
    raw = {
        "venues": {"hyperliquid": {"chain": "arbitrum"}, "extended": {"chain": "arbitrum"}},
        "allowlist": [WALLET, DEPOSIT],
    }
    raw.update(changes)
    return TransferRoutingConfig.model_validate(raw)


def test_a_venue_on_a_chain_without_a_wallet_is_a_config_error_naming_it():
    with pytest.raises(ValidationError, match=r"venues\.paradex: chain starknet has no wallet"):
        routing(venues={"paradex": {"chain": "starknet"}})


def test_two_wallets_on_one_chain_are_refused():
    with pytest.raises(ValidationError, match="two wallets on chain arbitrum"):
        routing(allowlist=[WALLET, {**WALLET, "address": "0xOTHER"}])


def test_a_venue_deposit_entry_must_name_its_venue():
    with pytest.raises(ValidationError, match="must name its venue"):
        routing(allowlist=[WALLET, {**DEPOSIT, "venue": None}])


def test_an_unknown_config_key_is_refused():
    with pytest.raises(ValidationError, match="extra"):
        routing(policy={"poll_secs": 3})


def test_an_address_off_the_allowlist_is_refused_naming_address_and_chain():
    with pytest.raises(DestinationNotAllowedError) as error:
        routing().check_allowed("arbitrum", "0xATTACKER", "withdrawal from hyperliquid")
    assert "0xATTACKER" in str(error.value)
    assert "chain arbitrum" in str(error.value)
    assert "not on the transfer allowlist" in str(error.value)


def test_an_allowlisted_address_on_another_chain_is_refused():
    with pytest.raises(DestinationNotAllowedError):
        routing().check_allowed("ethereum", "0xWALLET", "bridge transfer")


def test_addresses_compare_without_case():
    assert routing().check_allowed("arbitrum", "0xwallet", "x").kind == "wallet"


def test_our_wallet_is_not_accepted_as_a_venue_deposit_address():
    with pytest.raises(DestinationNotAllowedError, match="not as the deposit address"):
        routing().check_venue_deposit("extended", "main", "arbitrum", "0xWALLET")


def test_another_accounts_deposit_address_is_refused():
    with pytest.raises(DestinationNotAllowedError):
        routing().check_venue_deposit("extended", "arb2", "arbitrum", "0xDEPOSIT")


def test_unknown_venue_names_the_configured_ones():
    with pytest.raises(
        ConfigError, match=r"'aster' has no transfer route \(configured: extended, hyperliquid\)"
    ):
        routing().venue("aster")

"""Routing config: one wallet per chain, allowlist checks with clear refusals, required
limits, and `idempotent_withdrawals` only where the adapter declares key dedupe."""

import pytest
import yaml
from pydantic import ValidationError

from core.errors import ConfigError
from strategies.components.transfer_types import (
    DestinationNotAllowedError,
)
from strategies.implementations.funding_arbitrage.operations.transfer_config import (
    TransferRoutingConfig,
)
from strategies.transfer_wiring import load_transfers_config

WALLET = {"chain": "arbitrum", "kind": "wallet", "address": "0xWALLET"}
DEPOSIT = {
    "chain": "arbitrum",
    "kind": "venue_deposit",
    "venue": "extended",
    "address": "0xDEPOSIT",
}


POLICY = {"max_amount": "50000", "route_cap_24h": "200000"}


def routing(**changes):
    raw = {
        "venues": {"hyperliquid": {"chain": "arbitrum"}, "extended": {"chain": "arbitrum"}},
        "allowlist": [WALLET, DEPOSIT],
        "policy": POLICY,
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
        routing(policy={**POLICY, "poll_secs": 3})


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


@pytest.mark.parametrize("field", ["max_amount", "route_cap_24h"])
def test_a_config_without_a_limit_does_not_load_and_names_the_field(tmp_path, field):
    policy = {k: v for k, v in POLICY.items() if k != field}
    raw = {
        "routing": {
            "venues": {"hyperliquid": {"chain": "arbitrum"}},
            "allowlist": [WALLET],
            "policy": policy,
        }
    }
    path = tmp_path / "transfers.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=rf"routing\.policy\.{field}: Field required"):
        load_transfers_config(path)


def test_a_config_without_a_policy_does_not_load():
    with pytest.raises(ValidationError, match=r"policy\s+Field required"):
        TransferRoutingConfig.model_validate(
            {"venues": {"hyperliquid": {"chain": "arbitrum"}}, "allowlist": [WALLET]}
        )


def test_limits_out_of_order_are_refused_naming_both():
    with pytest.raises(ValidationError, match="route_cap_24h 1000 is below max_amount 50000"):
        routing(policy={**POLICY, "route_cap_24h": "1000"})
    with pytest.raises(ValidationError, match="max_amount 5 is below min_amount 10"):
        routing(policy={"max_amount": "5", "route_cap_24h": "200000"})


def test_idempotent_withdrawals_default_to_false():
    assert not routing().venue("hyperliquid").idempotent_withdrawals

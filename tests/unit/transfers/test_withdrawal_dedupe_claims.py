"""`idempotent_withdrawals: true` is a claim about a venue's adapter: the transfer manager
refuses it where the adapter does not declare `withdrawal_key_dedupe` (ccxt: its withdraw
takes no key). The paper venue's proof is in tests/integration/transfers/test_transfer_dedupe.py.
"""

import ccxt
import pytest

from core.errors import ConfigError
from exchanges.base import Capability
from strategies.implementations.funding_arbitrage.operations.transfer_config import (
    TransferRoutingConfig,
)
from tests.unit.transfers.ccxt_directory import CcxtVenues

CCXT_VENUES = ["hyperliquid", "paradex", "aster", "backpack", "lighter", "grvt", "apex", "dydx"]


def _routing(idempotent: bool) -> TransferRoutingConfig:
    return TransferRoutingConfig.model_validate(
        {
            "venues": {
                "hyperliquid": {"chain": "arbitrum", "idempotent_withdrawals": idempotent},
                "aster": {"chain": "arbitrum"},
            },
            "allowlist": [{"chain": "arbitrum", "kind": "wallet", "address": "0xW"}],
            "policy": {"max_amount": "1000", "route_cap_24h": "5000"},
        }
    )


@pytest.mark.parametrize("venue", CCXT_VENUES)
def test_no_ccxt_venue_declares_withdrawal_key_dedupe(venue):
    capabilities = CcxtVenues().capabilities(venue)
    assert Capability.WITHDRAWAL_KEY_DEDUPE not in capabilities


def test_a_ccxt_venue_that_withdraws_still_does_not_declare_it():
    # ccxt can withdraw on Hyperliquid (perpbot refuses it: no withdrawal is in the recorded
    # traffic), yet the key dedupe is never declared: ccxt's withdraw takes no key.
    assert ccxt.hyperliquid().has["withdraw"] is True
    assert Capability.WITHDRAWAL_KEY_DEDUPE not in CcxtVenues().capabilities("hyperliquid")


def test_idempotent_withdrawals_on_a_ccxt_venue_is_a_config_error_naming_the_field():
    with pytest.raises(ConfigError) as error:
        _routing(idempotent=True).check_withdrawal_dedupe(CcxtVenues())
    message = str(error.value)
    assert message.startswith("routing.venues.hyperliquid.idempotent_withdrawals: true")
    assert "does not declare withdrawal_key_dedupe" in message
    assert "set it to false" in message


def test_a_ccxt_venue_without_the_claim_is_accepted():
    _routing(idempotent=False).check_withdrawal_dedupe(CcxtVenues())

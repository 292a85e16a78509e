"""Amount checks and dedupe keys of transfer requests."""

from decimal import Decimal

import pytest

from strategies.components.transfer_types import (
    TransferRefusedError,
)
from strategies.implementations.funding_arbitrage.operations.transfer_config import (
    TransferRoutingConfig,
)
from strategies.implementations.funding_arbitrage.operations.transfer_requests import (
    check_amount,
    default_dedupe_key,
)

ROUTING = TransferRoutingConfig.model_validate(
    {
        "venues": {"hyperliquid": {"chain": "arbitrum"}},
        "allowlist": [{"chain": "arbitrum", "kind": "wallet", "address": "0xW"}],
        "policy": {"min_amount": "10", "max_amount": "50000", "amount_decimals": 6},
    }
)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (Decimal("9.99"), "at least 10"),
        (Decimal("50000.01"), "at most 50000"),
        (Decimal("100.0000001"), "more than 6 decimals"),
        (100.5, "finite Decimal"),
        (Decimal("NaN"), "finite Decimal"),
    ],
)
def test_a_bad_amount_is_refused_naming_the_rule(amount, message):
    with pytest.raises(TransferRefusedError, match=message):
        check_amount(amount, ROUTING)


def test_trailing_zeros_do_not_count_as_decimals():
    assert check_amount(Decimal("100.50000000"), ROUTING) == Decimal("100.5")


def test_the_default_dedupe_key_is_one_per_strategy_and_route():
    key = default_dedupe_key("arb", "hyperliquid", "main", "lighter", "main", "USDC")
    assert key == "arb:hyperliquid/main->lighter/main:USDC"
    assert default_dedupe_key(None, "a", "m", "b", "m", "USDC").startswith("operator:")


def test_a_long_dedupe_key_is_hashed_to_fit():
    key = default_dedupe_key("s" * 50, "v" * 20, "a" * 40, "w" * 20, "b" * 40, "USDC")
    assert key.startswith("sha256:") and len(key) <= 128

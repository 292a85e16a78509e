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
    decimal_places,
    legacy_key,
    namespaced_key,
)

POLICY = TransferRoutingConfig.model_validate(
    {
        "venues": {"hyperliquid": {"chain": "arbitrum"}},
        "allowlist": [{"chain": "arbitrum", "kind": "wallet", "address": "0xW"}],
        "policy": {
            "min_amount": "10",
            "max_amount": "50000",
            "route_cap_24h": "200000",
            "amount_decimals": 6,
        },
    }
).policy
ROUTE = "hyperliquid/main->lighter/main:USDC"


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
        check_amount(amount, POLICY, "USDC")


@pytest.mark.parametrize(
    ("amount", "named"),
    [
        ("1e40", r"amount 1E\+40 USDC is above the transfer policy: at most 50000 USDC"),
        ("1E+999999999", r"amount 1E\+999999999 USDC is above .* at most 50000 USDC"),
        ("-1E+999999999", r"amount -1E\+999999999 is not positive: .* 10 to 50000 USDC"),
        ("1E-999999999", r"amount 1E-999999999 USDC is below .* at least 10 USDC"),
        ("NaN", r"amount NaN is not a finite Decimal: a transfer moves 10 to 50000 USDC"),
        ("sNaN", r"amount sNaN is not a finite Decimal"),
        ("Infinity", r"amount Infinity is not a finite Decimal: .* 10 to 50000 USDC"),
        ("-Infinity", r"amount -Infinity is not a finite Decimal"),
        ("-5", r"amount -5 is not positive: a transfer moves 10 to 50000 USDC"),
        ("0", r"amount 0 is not positive"),
        ("-0", r"amount -0 is not positive"),
        ("0E+999999999", r"amount 0E\+999999999 is not positive"),
        ("100.1234567", r"amount 100.1234567 USDC has 7 decimal places, more than 6 decimals"),
        ("1" + "0" * 60, r"amount 1000000000000000000000000000000000000000\.\.\. \(61 digits\)"),
    ],
)
def test_absurd_amounts_are_refused_naming_the_amount_and_the_limit(amount, named):
    with pytest.raises(TransferRefusedError, match=named):
        check_amount(Decimal(amount), POLICY, "USDC")


def test_trailing_zeros_do_not_count_as_decimals():
    assert check_amount(Decimal("100.50000000"), POLICY, "USDC") == Decimal("100.5")
    assert check_amount(Decimal("1.00E+2"), POLICY, "USDC") == Decimal(100)
    assert decimal_places(Decimal("100.120000")) == 2
    assert decimal_places(Decimal("1E+5")) == 0


def test_operator_and_strategy_keys_live_in_separate_namespaces():
    assert namespaced_key(None, ROUTE) == f"operator:{ROUTE}"
    assert namespaced_key("arb", ROUTE) == f"strategy:arb:{ROUTE}"
    # A strategy named "operator" used to share the operator's key.
    assert legacy_key("operator", ROUTE) == legacy_key(None, ROUTE) == f"operator:{ROUTE}"
    assert namespaced_key("operator", ROUTE) != namespaced_key(None, ROUTE)
    assert namespaced_key("arb", ROUTE, "top-up-1") == "strategy:arb:top-up-1"
    assert namespaced_key(None, ROUTE, "top-up-1") == "operator:top-up-1"


def test_the_old_key_form_is_kept_for_reading():
    assert legacy_key("arb", ROUTE) == f"arb:{ROUTE}"
    assert legacy_key("arb", ROUTE, "chaos-3") == "chaos-3"


def test_a_long_dedupe_key_is_hashed_to_fit():
    route = f"{'v' * 20}/{'a' * 40}->{'w' * 20}/{'b' * 40}:USDC"
    key = namespaced_key("s" * 50, route)
    assert key.startswith("sha256:") and len(key) <= 128
    assert key != namespaced_key("s" * 49, route)

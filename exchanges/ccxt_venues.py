"""Venue-specific facts the ccxt adapter needs: capabilities, client ids, options, credentials.

Credentials come only from the environment, as `PERPBOT_<VENUE>_<FIELD>` (for example
`PERPBOT_HYPERLIQUID_PRIVATE_KEY`); they are handed to ccxt and never logged or stored.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import ccxt

from exchanges.base import Capability

SETTLE_PREFERENCE = ("USDC", "USD", "USDT")
# Capability -> ccxt `has` keys; any one of each group present means supported.
CAPABILITY_KEYS: dict[Capability, tuple[tuple[str, ...], ...]] = {
    Capability.FUNDING_RATES: (
        ("fetchFundingRates",),
        ("fetchFundingRate",),
        ("fetchFundingRateHistory",),
    ),
    Capability.ORDER_BOOK: (("fetchOrderBook",),),
    Capability.TRADING: (("createOrder", "cancelOrder"),),
    Capability.CLIENT_ORDER_ID_LOOKUP: (
        ("fetchOrder",),
        ("fetchOpenOrders", "fetchClosedOrders"),
        ("fetchOpenOrders", "fetchOrders"),
    ),
    Capability.POSITIONS: (("fetchPositions",),),
    Capability.BALANCE: (("fetchBalance",),),
    Capability.WITHDRAW: (("withdraw",),),
    Capability.DEPOSIT_ADDRESS: (("fetchDepositAddress",),),
    Capability.TRANSFER_STATUS: (("fetchDeposits",),),
    # No WITHDRAWAL_KEY_DEDUPE: ccxt's `withdraw` takes no idempotency key, so no ccxt venue
    # declares it (a resend after an unknown outcome could withdraw twice).
}
# Venues whose ccxt `fetch_order` accepts `params={"clientOrderId": ...}`; elsewhere the
# client id is found by scanning open and recent orders.
FETCH_ORDER_BY_CLIENT_ID = frozenset({"hyperliquid", "paradex"})
# ccxt options per venue. Hyperliquid: load only perpetual markets; and do not let ccxt add
# its 0.01 % builder fee to every order or register itself as the account's referrer
# (both are ccxt defaults: the builder approval is then made at 0 %).
CCXT_OPTIONS: dict[str, dict[str, Any]] = {
    "hyperliquid": {"fetchMarkets": {"types": ["swap"]}, "builderFee": False, "refSet": True},
}


def select_perpetuals(markets: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Base asset -> the active linear perpetual for it, preferring USDC, then USD, USDT.

    Options, spot, dated futures, inverse and delisted markets are left out.
    """
    chosen: dict[str, Mapping[str, Any]] = {}
    for market in markets:
        settle = market.get("settle")
        if not market.get("swap") or market.get("option") or market.get("linear") is False:
            continue
        if market.get("active") is False or settle not in SETTLE_PREFERENCE:
            continue
        base = str(market["base"])
        current = chosen.get(base)
        rank = SETTLE_PREFERENCE.index(settle)
        if current is None or rank < SETTLE_PREFERENCE.index(current["settle"]):
            chosen[base] = market
    return chosen


def venue_client_id(venue: str, client_order_id: str) -> str:
    """Our client order id in the form the venue accepts (Hyperliquid: 128-bit hex)."""
    if venue == "hyperliquid":
        return "0x" + hashlib.sha256(client_order_id.encode()).hexdigest()[:32]
    return client_order_id


def make_ccxt_exchange(
    venue: str, credentials: Mapping[str, str] | None = None, timeout_ms: int = 10_000
) -> ccxt.Exchange:
    """A ccxt exchange object for `venue` (its ccxt id), with rate limiting and a timeout."""
    config: dict[str, Any] = {
        "enableRateLimit": True,
        "timeout": timeout_ms,
        "options": copy.deepcopy(CCXT_OPTIONS.get(venue, {})),
    }
    config.update(credentials or {})
    return getattr(ccxt, venue)(config)


# Environment variable suffix -> ccxt credential attribute.
CREDENTIAL_FIELDS = {
    "API_KEY": "apiKey",
    "API_SECRET": "secret",
    "PASSWORD": "password",
    "UID": "uid",
    "WALLET_ADDRESS": "walletAddress",
    "PRIVATE_KEY": "privateKey",
}


def credential_env_name(venue: str, field: str) -> str:
    return f"PERPBOT_{venue.upper()}_{field}"


def credentials_from_env(venue: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The ccxt credentials for `venue` found in `environ` (empty values are ignored)."""
    found = {}
    for field, attribute in CREDENTIAL_FIELDS.items():
        value = environ.get(credential_env_name(venue, field), "").strip()
        if value:
            found[attribute] = value
    return found


def missing_credentials(venue: str, exchange: ccxt.Exchange, found: Mapping[str, str]) -> list[str]:
    """Environment variables ccxt requires for this venue that are not set."""
    by_attribute = {attribute: field for field, attribute in CREDENTIAL_FIELDS.items()}
    return [
        credential_env_name(venue, by_attribute[attribute])
        for attribute, required in exchange.requiredCredentials.items()
        if required and attribute in by_attribute and attribute not in found
    ]

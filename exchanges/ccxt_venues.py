"""What the ccxt adapter needs around ccxt itself: capability keys, market selection, the
exchange factory and credentials (venue quirks live in `exchanges.venue_quirks`).

Credentials come only from the environment, as `PERPBOT_<VENUE>_<FIELD>` (for example
`PERPBOT_HYPERLIQUID_PRIVATE_KEY`); they are handed to ccxt and never logged or stored.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

import ccxt

from exchanges.base import Capability
from exchanges.venue_quirks import quirks_for

SETTLE_PREFERENCE = ("USDC", "USD", "USDT")
# Capability -> ccxt `has` keys; any one of each group present means ccxt can do it (the
# venue's quirks may still refuse it, see `exchanges.venue_quirks`).
CAPABILITY_KEYS: dict[Capability, tuple[tuple[str, ...], ...]] = {
    Capability.INSTRUMENTS: (("fetchMarkets",),),
    Capability.FUNDING_RATES: (
        ("fetchFundingRates",),
        ("fetchFundingRate",),
        ("fetchFundingRateHistory",),
    ),
    Capability.ORDER_BOOK: (("fetchOrderBook",),),
    Capability.TRADING: (("createOrder",),),
    Capability.CLIENT_ORDER_ID_LOOKUP: (
        ("fetchOrder",),
        ("fetchOpenOrders", "fetchClosedOrders"),
        ("fetchOpenOrders", "fetchOrders"),
    ),
    Capability.CANCEL_ORDER: (("cancelOrder",),),
    Capability.POSITIONS: (("fetchPositions",),),
    Capability.BALANCE: (("fetchBalance",),),
    Capability.WITHDRAW: (("withdraw",),),
    Capability.DEPOSIT_ADDRESS: (("fetchDepositAddress",),),
    Capability.TRANSFER_STATUS: (("fetchDeposits",),),
}
# Capabilities no ccxt venue has, whatever `exchange.has` says, and why.
CCXT_NEVER: dict[Capability, str] = {
    Capability.WITHDRAWAL_KEY_DEDUPE: (
        "ccxt's withdraw takes no idempotency key, so a resend after an unknown outcome "
        "could withdraw twice"
    ),
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


def make_ccxt_exchange(
    venue: str, credentials: Mapping[str, str] | None = None, timeout_ms: int = 10_000
) -> ccxt.Exchange:
    """A ccxt exchange object for `venue` (its ccxt id, a venue with quirks in
    `exchanges.venue_quirks`), with its ccxt options, rate limiting and a timeout."""
    config: dict[str, Any] = {
        "enableRateLimit": True,
        "timeout": timeout_ms,
        "options": copy.deepcopy(dict(quirks_for(venue).ccxt_options)),
    }
    config.update(credentials or {})
    return getattr(ccxt, venue)(config)


def make_public_exchange(venue: str, timeout_ms: int = 10_000) -> ccxt.Exchange:
    """A credential-less ccxt exchange object for reading public market history from any
    ccxt venue (`data fetch`: Binance and Bybit are not trading venues of perpbot, so they
    have no quirks); a trading venue gets its quirk options as in `make_ccxt_exchange`.
    `AttributeError` if ccxt has no such exchange id."""
    try:
        options = copy.deepcopy(dict(quirks_for(venue).ccxt_options))
    except KeyError:
        options = {}
    exchange_class = getattr(ccxt, venue)
    return exchange_class({"enableRateLimit": True, "timeout": timeout_ms, "options": options})


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

"""Lighter through ccxt 4.5.90.

- The recorded markets (orderBookDetails) carry no `market_type`: ccxt 4.5.90 types them
  spot. They are Lighter's perpetual order books (USDC-settled; ccxt's later parse of the
  same payload agrees), so they are re-typed as linear perpetuals.
- Market fees come from the venue's own market list (`taker_fee` / `maker_fee`).
- The funding endpoint gives a rate with neither a time nor an interval: refused.
- Books carry no time: a book is observed when fetched.
- ccxt finds the account (positions) by its L1 address, a call not recorded: refused.
- The balance ccxt builds sums spot assets over every sub-account, not the perp account's
  collateral and free margin: refused. Orders need Lighter's native signer: not through ccxt.
"""

from typing import Any

from exchanges.base import Capability
from exchanges.venue_quirks import (
    NOT_RECORDED,
    ClientIdFormat,
    ClientIdKind,
    Observed,
    VenueQuirks,
)

# Lighter's client_order_index is a 48-bit integer.
MAX_CLIENT_ORDER_INDEX = 2**48 - 1


def perpetual_when_untyped(market: dict[str, Any]) -> dict[str, Any]:
    """A market without `market_type` in its info is one of Lighter's perpetuals."""
    info = market.get("info") or {}
    if "market_type" in info or market.get("swap"):
        return market
    base = market["base"]
    return {
        **market,
        "symbol": f"{base}/USDC:USDC",
        "settle": "USDC",
        "settleId": "USDC",
        "type": "swap",
        "spot": False,
        "swap": True,
        "contract": True,
        "linear": True,
        "inverse": False,
        "contractSize": market.get("contractSize") or 1,
    }


QUIRKS = VenueQuirks(
    venue="lighter",
    client_ids=ClientIdFormat(ClientIdKind.INTEGER, max_value=MAX_CLIENT_ORDER_INDEX),
    book_time=Observed.FETCHED,
    market_fix=perpetual_when_untyped,
    refused={
        Capability.FUNDING_RATES: (
            "the funding endpoint gives neither the rate's time nor its interval"
        ),
        Capability.TRADING: f"orders (Lighter's signer) are {NOT_RECORDED}",
        Capability.CLIENT_ORDER_ID_LOOKUP: f"order queries are {NOT_RECORDED}",
        Capability.CANCEL_ORDER: f"cancel is {NOT_RECORDED}",
        Capability.POSITIONS: (
            "ccxt finds the account by its L1 address first (accountsByL1Address), which "
            "is not recorded"
        ),
        Capability.BALANCE: (
            "ccxt sums spot assets over all sub-accounts, not the perp account's equity"
        ),
        Capability.WITHDRAW: f"withdraw is {NOT_RECORDED}",
        Capability.DEPOSIT_ADDRESS: "ccxt has no fetchDepositAddress for Lighter",
        Capability.TRANSFER_STATUS: f"deposits are {NOT_RECORDED}",
    },
)

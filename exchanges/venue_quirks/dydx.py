"""dYdX v4 (indexer) through ccxt 4.5.90.

- Client ids are unsigned 32-bit integers.
- The market list has no fees and ccxt has none: instruments refused.
- ccxt has no current funding rate; the market list carries nextFundingRate but no
  interval, and the recorded history has a single settlement: refused.
- Positions carry no mark (ccxt leaves markPrice None): dYdX marks at the oracle price,
  which its market list carries (`oraclePrice`, fetched fresh for every read); nor a
  margin: a cross-margined position's initial margin is its notional times the market's
  `initialMarginFraction`, from the same list.
- ccxt leaves the balance's total None: equity and free collateral are the subaccount's
  own `equity` and `freeCollateral`.
- The indexer lists transfers once they are in a block: a listed deposit is complete
  (ccxt leaves its status None). Books carry no time (observed when fetched).
- Orders are placed by broadcasting a signed transaction, which is not recorded.
"""

from collections.abc import Mapping
from typing import Any

from exchanges.base import Capability
from exchanges.venue_quirks import (
    NOT_RECORDED,
    BalanceFigures,
    ClientIdFormat,
    ClientIdKind,
    MarkSource,
    Observed,
    VenueQuirks,
)


def subaccount_totals(balance: Mapping[str, Any]) -> BalanceFigures:
    info = balance.get("info") or {}
    return BalanceFigures(total=info.get("equity"), free=info.get("freeCollateral"), used=None)


QUIRKS = VenueQuirks(
    venue="dydx",
    client_ids=ClientIdFormat(ClientIdKind.INTEGER, max_value=2**32 - 1),
    book_time=Observed.FETCHED,
    mark=MarkSource.MARKET_INFO,
    mark_field="oraclePrice",
    margin_fraction_field="initialMarginFraction",
    balance=subaccount_totals,
    listed_transfers_are_final=True,
    refused={
        Capability.INSTRUMENTS: "the venue's market list has no fees and ccxt has none",
        Capability.FUNDING_RATES: (
            "ccxt has no current rate; the market list states no interval and the recorded "
            "history has one settlement"
        ),
        Capability.TRADING: f"placing an order (a signed broadcast) is {NOT_RECORDED}",
        Capability.CANCEL_ORDER: f"cancel is {NOT_RECORDED}",
        Capability.WITHDRAW: f"withdraw is {NOT_RECORDED}",
        Capability.DEPOSIT_ADDRESS: "ccxt has no fetchDepositAddress for dYdX",
    },
)

"""Extended through ccxt 4.5.90.

- ccxt's market fees are a 0.002 placeholder; the venue's fee endpoint (/user/fees) says
  0.00025 taker, 0 maker: fees come from there, per market.
- ccxt has no current funding rate for Extended; the market list carries one but states no
  interval, and the recorded funding history has a single settlement: refused.
- ccxt stamps books with its own clock: the time is the clock's, when fetched.
- The reply to a new order is not recorded: placements are confirmed by looking the order
  up by its external id (fetch_order with clientOrderId), which is recorded, as is cancel
  by external id.
- ccxt adds a 0.01 % builder fee (its own builder id) to every order by default: turned
  off, so our orders carry no builderFee/builderId where the recorded ones do.
- fetchBalance reads spot collateral balances (/user/spot/balances), not the account's
  equity and free margin: refused.
"""

from exchanges.base import Capability
from exchanges.venue_quirks import (
    NOT_RECORDED,
    ClientIdFormat,
    ClientIdKind,
    FeeSource,
    Lookup,
    Observed,
    VenueQuirks,
)

QUIRKS = VenueQuirks(
    venue="extended",
    client_ids=ClientIdFormat(ClientIdKind.TEXT, max_length=64),
    lookup=Lookup.FETCH_ORDER,
    confirm_by_lookup=True,
    fees=FeeSource.TRADING_FEE,
    book_time=Observed.FETCHED,
    ccxt_options={"builderFee": False},
    request_omits=("builderFee", "builderId"),
    refused={
        Capability.FUNDING_RATES: (
            "ccxt has no current rate; the market list states no interval and the recorded "
            "history has one settlement"
        ),
        Capability.BALANCE: (
            "ccxt reads spot collateral balances, not the account's equity and free margin"
        ),
        Capability.WITHDRAW: f"withdraw is {NOT_RECORDED}",
        Capability.DEPOSIT_ADDRESS: "ccxt has no fetchDepositAddress for Extended",
    },
)

"""Backpack through ccxt 4.5.90.

- Client ids are unsigned 32-bit integers (ccxt must be given an int).
- ccxt hard-codes a 1 h funding interval; the venue states each market's own
  (`fundingInterval`, milliseconds) in its market list, which is what counts.
- The mark-price endpoint carries no time: a rate is observed when fetched.
- Orders carry no fee (nor, when looked up, an average price): a filled order takes both
  from the venue's fills of it (fetch_my_trades), in the settlement currency.
- fetchBalance reads /capital (spot asset quantities), not the account's equity and free
  margin: refused.
"""

from exchanges.base import Capability
from exchanges.venue_quirks import (
    NOT_RECORDED,
    ClientIdFormat,
    ClientIdKind,
    FundingQuirks,
    FundingSource,
    IntervalSource,
    Observed,
    VenueQuirks,
)

QUIRKS = VenueQuirks(
    venue="backpack",
    fills_price_orders=True,
    client_ids=ClientIdFormat(ClientIdKind.INTEGER, max_value=2**32 - 1),
    funding=FundingQuirks(
        FundingSource.RATE,
        IntervalSource.MARKET_INFO_MS,
        Observed.FETCHED,
        interval_field="fundingInterval",
    ),
    refused={
        Capability.INSTRUMENTS: f"the market list is {NOT_RECORDED}",
        Capability.ORDER_BOOK: f"the order book reply is {NOT_RECORDED}",
        Capability.BALANCE: (
            "ccxt reads spot asset quantities (/capital), not the account's equity and free margin"
        ),
        Capability.WITHDRAW: f"withdraw is {NOT_RECORDED}",
    },
)

"""GRVT through ccxt 4.5.90.

- Client ids are integers (uint64; kept below 2**63).
- ccxt adds a builder fee to every order by default: turned off.
- ccxt has no current funding rate for GRVT: the last settlement from the funding history,
  timestamped at its settlement (it is history, not a quote), with the interval the
  settlement states (`funding_interval_hours`). The venue quotes rates in percent; ccxt
  4.5.90 divides by 100 (its later versions do not: the recorded parse says 0.01).
- The recorded market list has no fees; books carry no time (observed when fetched).
- Recorded positions and open orders are empty lists: what a position or an order looks
  like was never seen, so both are refused.
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
    venue="grvt",
    client_ids=ClientIdFormat(ClientIdKind.INTEGER, max_value=2**63 - 1),
    funding=FundingQuirks(
        FundingSource.HISTORY,
        IntervalSource.HISTORY_INFO_HOURS,
        Observed.SETTLEMENT,
        interval_field="funding_interval_hours",
    ),
    book_time=Observed.FETCHED,
    ccxt_options={"builderFee": False},
    refused={
        Capability.INSTRUMENTS: "the venue's market list has no fees and ccxt has none",
        Capability.TRADING: (
            "an order could not be looked up afterwards (the recorded open orders are empty)"
        ),
        Capability.CLIENT_ORDER_ID_LOOKUP: "the recorded open orders are empty: no order seen",
        Capability.CANCEL_ORDER: f"cancel by id is {NOT_RECORDED}",
        Capability.POSITIONS: "the recorded positions are empty: no position seen",
        Capability.WITHDRAW: f"withdraw is {NOT_RECORDED}",
        Capability.DEPOSIT_ADDRESS: "ccxt has no fetchDepositAddress for GRVT",
        Capability.TRANSFER_STATUS: "the recorded transfer history holds no deposit",
    },
)

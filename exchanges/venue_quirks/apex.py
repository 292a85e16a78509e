"""ApeX (omni) through ccxt 4.5.90.

The recordings hold ApeX's config without its perpetual contracts, orders placed and
cancelled, and trades; no market list, funding, book, order lookup, position or balance.
Nothing that needs those is offered.
"""

from exchanges.base import Capability
from exchanges.venue_quirks import NOT_RECORDED, ClientIdFormat, ClientIdKind, VenueQuirks

QUIRKS = VenueQuirks(
    venue="apex",
    client_ids=ClientIdFormat(ClientIdKind.TEXT, max_length=64),
    refused={
        Capability.INSTRUMENTS: "the recorded config lists no perpetual contracts",
        Capability.FUNDING_RATES: f"its funding history is {NOT_RECORDED}",
        Capability.ORDER_BOOK: f"the order book is {NOT_RECORDED}",
        Capability.TRADING: "an order could not be looked up afterwards (no lookup recorded)",
        Capability.CLIENT_ORDER_ID_LOOKUP: f"order queries are {NOT_RECORDED}",
        Capability.CANCEL_ORDER: "cancel needs the order found first, which is not recorded",
        Capability.POSITIONS: f"positions are {NOT_RECORDED} (and ccxt leaves markPrice None)",
        Capability.BALANCE: f"the balance is {NOT_RECORDED}",
        Capability.WITHDRAW: "ccxt has no withdraw for ApeX",
        Capability.DEPOSIT_ADDRESS: "ccxt has no fetchDepositAddress for ApeX",
        Capability.TRANSFER_STATUS: "ccxt has no fetchDeposits for ApeX",
    },
)

"""Aster (a Binance-style API) through ccxt 4.5.90.

ccxt 4.5.90 talks to Aster's v3 API: public data from /fapi/v3, every private call signed
with the account's L1 key through /fapi/v3/builder. The recordings hold the v1/v2/v4 API
(HMAC-signed /fapi/v1/order, /fapi/v2/positionRisk, /fapi/v4/account, ...), which a later
ccxt sends. No request ccxt 4.5.90 makes for Aster is one the recordings show, so nothing
is offered. Client ids there are at most 36 characters of [.A-Z:/a-z0-9_-].
"""

from exchanges.base import Capability
from exchanges.venue_quirks import ClientIdFormat, ClientIdKind, VenueQuirks

_V3 = "ccxt 4.5.90 calls Aster's v3 API ({}); the recordings hold the v1/v4 API"

QUIRKS = VenueQuirks(
    venue="aster",
    client_ids=ClientIdFormat(ClientIdKind.TEXT, max_length=36, alphabet=r".A-Z:/a-z0-9_-"),
    refused={
        Capability.INSTRUMENTS: _V3.format("exchangeInfo"),
        Capability.FUNDING_RATES: _V3.format("/fapi/v3/premiumIndex"),
        Capability.ORDER_BOOK: _V3.format("/fapi/v3/depth"),
        Capability.TRADING: _V3.format("orders through /fapi/v3/builder"),
        Capability.CLIENT_ORDER_ID_LOOKUP: _V3.format("orders through /fapi/v3/builder"),
        Capability.CANCEL_ORDER: _V3.format("cancel through /fapi/v3/builder"),
        Capability.POSITIONS: _V3.format("positions through /fapi/v3/builder"),
        Capability.BALANCE: _V3.format("the account through /fapi/v3/builder"),
        Capability.WITHDRAW: "withdraw is not seen working on recorded traffic",
        Capability.DEPOSIT_ADDRESS: "ccxt has no fetchDepositAddress for Aster",
        Capability.TRANSFER_STATUS: "ccxt has no fetchDeposits for Aster",
    },
)

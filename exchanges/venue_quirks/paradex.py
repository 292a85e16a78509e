"""Paradex through ccxt 4.5.90.

- Market fees in ccxt are its own constants (0.0003 / -0.00005 in parse_market, 0.0002 in
  describe), not the venue's: instruments are refused rather than priced with them.
- The recorded market list has no `funding_period_hours`: the interval of a rate is unknown.
- Positions carry no mark (ccxt leaves markPrice None) and the balance endpoint gives the
  collateral only (ccxt leaves free None): both refused.
- Transfers: the venue's status is mapped by ccxt ("COMPLETED" -> ok).
"""

from exchanges.base import Capability
from exchanges.venue_quirks import NOT_RECORDED, ClientIdFormat, ClientIdKind, VenueQuirks

QUIRKS = VenueQuirks(
    venue="paradex",
    client_ids=ClientIdFormat(ClientIdKind.TEXT, max_length=64),
    refused={
        Capability.INSTRUMENTS: "ccxt's fees for Paradex are its own constants, not the venue's",
        Capability.FUNDING_RATES: (
            "the recorded market list states no funding period (funding_period_hours), "
            "so a rate's interval is unknown"
        ),
        Capability.TRADING: f"the reply to a new order is {NOT_RECORDED}",
        Capability.CLIENT_ORDER_ID_LOOKUP: (
            f"orders by client id and open orders are {NOT_RECORDED}"
        ),
        Capability.CANCEL_ORDER: f"cancel is {NOT_RECORDED}",
        Capability.POSITIONS: ("ccxt leaves markPrice None and the venue's position has no mark"),
        Capability.BALANCE: ("the balance endpoint gives collateral only; ccxt leaves free None"),
        Capability.WITHDRAW: "ccxt has no withdraw for Paradex",
        Capability.DEPOSIT_ADDRESS: "ccxt has no fetchDepositAddress for Paradex",
    },
)

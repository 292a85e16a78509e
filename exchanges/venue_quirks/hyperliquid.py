"""Hyperliquid through ccxt 4.5.90.

- Client ids are 128-bit hex ("cloid"): ours is hashed onto one.
- ccxt adds a 0.01 % builder fee to every order and registers itself as the account's
  referrer by default: both turned off. Only perpetual markets are loaded.
- Placing is refused: the order ccxt 4.5.90 builds is not the recorded one (the recorded
  orders, from a later ccxt, carry `brokerCode`; 4.5.90 first approves its builder at 0 %,
  a call the recordings do not hold, then attaches it to every order).
- The ledger (`userNonFundingLedgerUpdates`) lists applied transfers only: a listed deposit
  is complete (ccxt leaves its status None), in USDC (ccxt leaves the currency None).
- The balance is refused: ccxt 4.5.90 first asks whether the account is unified
  (`userAbstraction`, not recorded) and reads a different balance for each answer.
- Orders carry no fee (nor, when looked up, an average price): a filled order takes both
  from the venue's fills of it (fetch_my_trades), in the settlement currency.
- ccxt 4.5.90 derives a position's mark from `positionValue / |szi|`, which the recorded
  positions confirm (it reproduces their unrealized PnL).
"""

from exchanges.base import Capability
from exchanges.venue_quirks import NOT_RECORDED, ClientIdFormat, ClientIdKind, Lookup, VenueQuirks

QUIRKS = VenueQuirks(
    venue="hyperliquid",
    fills_price_orders=True,
    client_ids=ClientIdFormat(ClientIdKind.HEX128),
    lookup=Lookup.FETCH_ORDER,
    listed_transfers_are_final=True,
    transfer_asset="USDC",
    ccxt_options={"fetchMarkets": {"types": ["swap"]}, "builderFee": False, "refSet": True},
    refused={
        Capability.INSTRUMENTS: f"the market list (metaAndAssetCtxs) is {NOT_RECORDED}",
        Capability.FUNDING_RATES: f"fetchFundingRates is {NOT_RECORDED}",
        Capability.ORDER_BOOK: f"the order book (l2Book) reply is {NOT_RECORDED}",
        Capability.TRADING: (
            "ccxt 4.5.90 approves its builder and attaches it to every order: not the "
            "recorded order request"
        ),
        Capability.CANCEL_ORDER: f"the reply to a cancel is {NOT_RECORDED}",
        Capability.BALANCE: (
            "ccxt 4.5.90 first asks whether the account is unified (userAbstraction), "
            f"which is {NOT_RECORDED}"
        ),
        Capability.WITHDRAW: f"withdraw is {NOT_RECORDED}",
        Capability.DEPOSIT_ADDRESS: "ccxt has no fetchDepositAddress for Hyperliquid",
    },
)

"""A transfer `VenueDirectory` of real ccxt adapters: what the manager would see for real
venues. Reading capabilities sends nothing (it reads ccxt's `exchange.has`)."""

from __future__ import annotations

from exchanges.base import Capability
from exchanges.ccxt_client import CcxtExchangeClient
from exchanges.ccxt_venues import make_ccxt_exchange


class CcxtVenues:
    def venue(self, name: str, account: str) -> CcxtExchangeClient:
        return CcxtExchangeClient(name, make_ccxt_exchange(name))

    def capabilities(self, name: str) -> frozenset[Capability]:
        return self.venue(name, "main").capabilities()

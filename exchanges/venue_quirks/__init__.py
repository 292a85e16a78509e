"""What ccxt gets wrong or lacks, written down once per venue (one module each).

Each venue module defines `QUIRKS`, a `VenueQuirks`: the capabilities refused and why (a
capability not seen working on recorded venue traffic is refused, never assumed), the form
of the venue's client order ids, how an order is found by its client id, where fees, funding
intervals and marks come from, what a funding timestamp means, and the ccxt options the
venue needs. `exchanges.ccxt_client.CcxtExchangeClient` reads nothing venue-specific from
anywhere else.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from exchanges.base import Capability

NOT_RECORDED = "not seen working on recorded traffic"


class ClientIdKind(StrEnum):
    TEXT = "text"  # a string, at most `max_length` characters of `alphabet`
    HEX128 = "hex128"  # "0x" and 32 hex digits (Hyperliquid's cloid)
    INTEGER = "integer"  # a number in [1, max_value]


@dataclass(frozen=True, slots=True)
class ClientIdFormat:
    """How the venue wants a client order id; `derive` maps ours onto it deterministically."""

    kind: ClientIdKind
    max_length: int = 64
    alphabet: str = r"A-Za-z0-9_.:/-"
    max_value: int = 0

    def derive(self, client_order_id: str) -> str:
        """The venue's id for our client order id: the same input always gives the same id.

        Hashes keep distinct intents apart (128 bits for text and hex ids; integer ids are
        as wide as the venue allows, so the journal also refuses a second intent mapping to
        an id already in use on that venue).
        """
        digest = hashlib.sha256(client_order_id.encode()).hexdigest()
        if self.kind is ClientIdKind.HEX128:
            return "0x" + digest[:32]
        if self.kind is ClientIdKind.INTEGER:
            return str(1 + int(digest, 16) % self.max_value)
        if len(client_order_id) <= self.max_length and re.fullmatch(
            f"[{self.alphabet}]+", client_order_id
        ):
            return client_order_id
        return "pb" + digest[: min(self.max_length - 2, 62)]

    def ccxt_value(self, venue_client_id: str) -> str | int:
        """What ccxt must be handed: venues with integer ids want an int in the request."""
        return int(venue_client_id) if self.kind is ClientIdKind.INTEGER else venue_client_id


class Lookup(StrEnum):
    FETCH_ORDER = "fetch_order"  # fetch_order(params={"clientOrderId": ...})
    SCAN = "scan"  # open orders, then recent orders, matched on the client id


class FundingSource(StrEnum):
    RATE = "fetch_funding_rate"  # the current rate, per market
    HISTORY = "fetch_funding_rate_history"  # the last settlement


class IntervalSource(StrEnum):
    MARKET_INFO_MS = "market_info_ms"  # the market's own field, in milliseconds
    HISTORY_INFO_HOURS = "history_info_hours"  # the settlement's own field, in hours


class Observed(StrEnum):
    """What the time on a venue quote means."""

    VENUE = "venue"  # the venue stamps it: use that, refuse it if missing
    FETCHED = "fetched"  # a live quote without a time: observed when the clock fetched it
    SETTLEMENT = "settlement"  # a settled rate: its settlement time


class FeeSource(StrEnum):
    MARKETS = "markets"  # the venue's market list (as ccxt passes it on)
    TRADING_FEE = "fetch_trading_fee"  # the venue's fee endpoint, per market


class MarkSource(StrEnum):
    CCXT = "ccxt"  # the position's markPrice
    MARKET_INFO = "market_info"  # a field of the venue's (freshly fetched) market list


@dataclass(frozen=True, slots=True)
class FundingQuirks:
    source: FundingSource
    interval: IntervalSource
    time: Observed
    interval_field: str | None = None


@dataclass(frozen=True, slots=True)
class BalanceFigures:
    """Raw total (equity), free and used margin, read from the venue's own answer."""

    total: object
    free: object
    used: object | None


@dataclass(frozen=True)
class VenueQuirks:
    venue: str
    client_ids: ClientIdFormat
    refused: Mapping[Capability, str]
    lookup: Lookup = Lookup.SCAN
    # The venue's reply to a new order is not trusted (not recorded): confirm by lookup.
    confirm_by_lookup: bool = False
    # A filled order without its average price or fee takes them from the venue's fills
    # (fetch_my_trades, recorded); elsewhere such an order is refused.
    fills_price_orders: bool = False
    fees: FeeSource = FeeSource.MARKETS
    funding: FundingQuirks | None = None
    book_time: Observed = Observed.VENUE
    mark: MarkSource = MarkSource.CCXT
    mark_field: str | None = None
    # Where ccxt gives a position no margin: the market's initial margin fraction (of the
    # notional at the mark), from the same fresh market list as the mark.
    margin_fraction_field: str | None = None
    position_side_field: str | None = None  # when ccxt leaves `side` None
    balance: Callable[[Mapping[str, Any]], BalanceFigures] | None = None
    market_fix: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # Transfers the venue lists are settled ones (its history has no pending state).
    listed_transfers_are_final: bool = False
    transfer_asset: str | None = None  # where ccxt leaves a transfer's currency None
    ccxt_options: Mapping[str, Any] = field(default_factory=dict)
    # Request fields ccxt's defaults send (and the recordings show) that our options remove.
    request_omits: tuple[str, ...] = ()

    def reason(self, capability: Capability) -> str | None:
        return self.refused.get(capability)


def _load() -> dict[str, VenueQuirks]:
    from exchanges.venue_quirks import (
        apex,
        aster,
        backpack,
        dydx,
        extended,
        grvt,
        hyperliquid,
        lighter,
        paradex,
    )

    modules = (hyperliquid, paradex, lighter, aster, backpack, grvt, extended, apex, dydx)
    return {module.QUIRKS.venue: module.QUIRKS for module in modules}


_QUIRKS: dict[str, VenueQuirks] = {}


def quirks_for(venue: str) -> VenueQuirks:
    """The quirks of a venue the ccxt adapter supports; KeyError names the known ones."""
    if not _QUIRKS:
        _QUIRKS.update(_load())
    try:
        return _QUIRKS[venue]
    except KeyError:
        raise KeyError(
            f"no ccxt quirks for {venue!r}; known: {', '.join(sorted(_QUIRKS))}"
        ) from None


def all_quirks() -> dict[str, VenueQuirks]:
    if not _QUIRKS:
        _QUIRKS.update(_load())
    return dict(_QUIRKS)

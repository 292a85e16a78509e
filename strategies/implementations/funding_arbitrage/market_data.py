"""What the strategy reads about its venues and the funding service, in one place.

Instruments (sizes, fees) are read from the venues once per strategy instance (one task):
the fee schedule used to rank opportunities is built from them, so fees are what the
venues actually charge. Funding rates come from the funding service's store through
`FundingServiceClient`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from core.market import Instrument, TopOfBook
from exchanges.base import Balance, ExchangeError
from funding_service.fees import FeeSchedule
from funding_service.opportunities import OpportunityFilter, Ranking
from strategies.components.base_components import (
    FundingRateSource,
    PositionRecord,
    VenueClients,
)
from strategies.implementations.funding_arbitrage.api_client import FundingServiceClient
from strategies.implementations.funding_arbitrage.config import FundingArbitrageConfig
from strategies.implementations.funding_arbitrage.entry import VenueAccount
from strategies.implementations.funding_arbitrage.models import Leg, LegSpec
from strategies.implementations.funding_arbitrage.position_manager import leg_venue

logger = logging.getLogger(__name__)


def opportunity_filter(config: FundingArbitrageConfig) -> OpportunityFilter:
    """What the strategy's entry rules let through the ranking (the dashboard shows the same)."""
    entry = config.entry
    return OpportunityFilter(
        horizon_hours=config.horizon_hours,
        min_divergence_hourly=entry.min_divergence_hourly,
        max_breakeven_hours=entry.max_breakeven_hours,
        max_age=entry.max_rate_age,
        min_open_interest_usd=entry.min_open_interest_usd,
        venues=frozenset(config.venue_names),
        symbols=frozenset(config.symbols),
    )


class UnknownInstrumentError(LookupError):
    """A venue does not list a symbol the strategy wants to trade there."""


class MarketData:
    def __init__(
        self,
        config: FundingArbitrageConfig,
        venues: VenueClients,
        rates: FundingRateSource,
    ) -> None:
        self._config = config
        self._venues = venues
        self._rates = rates
        self._instruments: dict[str, dict[str, Instrument]] = {}
        self._client: FundingServiceClient | None = None

    # ---------------------------------------------------------------- instruments

    def instruments(self, venue: str) -> dict[str, Instrument]:
        found = self._instruments.get(venue)
        if found is None:
            found = {i.symbol: i for i in self._venues.client(venue).instruments()}
            self._instruments[venue] = found
        return found

    def instrument(self, venue: str, symbol: str) -> Instrument:
        found = self.instruments(venue).get(symbol)
        if found is None:
            raise UnknownInstrumentError(f"{venue} does not list {symbol}")
        return found

    def leg_specs(self, position: PositionRecord) -> dict[Leg, LegSpec]:
        specs = {}
        for leg in Leg:
            venue = leg_venue(position, leg)
            instrument = self.instrument(venue, position.symbol)
            specs[leg] = LegSpec(
                leg, venue, position.symbol, instrument.min_qty, instrument.qty_step
            )
        return specs

    # ---------------------------------------------------------------- funding

    def client(self) -> FundingServiceClient:
        """The funding client, with fees from the venues that answered (a venue that did not
        is left out of the ranking as "no fee schedule" rather than stopping it)."""
        if self._client is None:
            instruments: list[Instrument] = []
            for venue in self._config.venue_names:
                try:
                    instruments += self.instruments(venue).values()
                except ExchangeError as exc:
                    logger.warning("%s: instruments unavailable, venue not ranked: %s", venue, exc)
            self._client = FundingServiceClient(
                self._rates, FeeSchedule.from_instruments(instruments)
            )
        return self._client

    def opportunity_filter(self) -> OpportunityFilter:
        return opportunity_filter(self._config)

    def ranked(self, now: datetime) -> Ranking:
        return self.client().rank(now, self.opportunity_filter())

    def divergence(self, now: datetime, position: PositionRecord) -> Decimal | None:
        """The pair's divergence now (hourly), or None if a leg has no fresh rate."""
        quote = self.client().current(
            now,
            position.symbol,
            leg_venue(position, Leg.LONG),
            leg_venue(position, Leg.SHORT),
            self._config.entry.max_rate_age,
        )
        return None if quote is None else quote.divergence_hourly

    def close_cost_rate(self, position: PositionRecord) -> Decimal:
        fees = self.client().fees
        return sum(
            (fees.for_leg(leg_venue(position, leg), position.symbol).taker for leg in Leg),
            Decimal(0),
        )

    # ---------------------------------------------------------------- accounts and books

    def account(self, venue: str) -> VenueAccount:
        client = self._venues.client(venue)
        held = {p.symbol: p for p in client.positions() if p.qty != 0}
        return VenueAccount(balance=client.balance(), positions=held)

    def book(self, venue: str, symbol: str) -> TopOfBook:
        return self._venues.client(venue).top_of_book(symbol)

    def balance(self, venue: str) -> Balance:
        return self._venues.client(venue).balance()

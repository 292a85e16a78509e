"""The paper venue: a simulated perp DEX whose whole state lives in PostgreSQL."""

from exchanges.paper.config import FaultConfig, PaperVenueConfig
from exchanges.paper.exchange import PaperExchange
from exchanges.paper.simulation import VenueAdvance

__all__ = ["FaultConfig", "PaperExchange", "PaperVenueConfig", "VenueAdvance"]

"""The paper venue: the simulated perp DEX whose whole state lives in PostgreSQL."""

from exchanges.paper.exchange import PaperExchange
from exchanges.simulation.config import FaultConfig, PaperVenueConfig
from exchanges.simulation.state import VenueAdvance

__all__ = ["FaultConfig", "PaperExchange", "PaperVenueConfig", "VenueAdvance"]

"""The in-memory venue: the paper venue's model with its state in Python objects."""

from exchanges.memory.state import InMemoryVenueState
from exchanges.memory.venue import InMemoryVenue

__all__ = ["InMemoryVenue", "InMemoryVenueState"]

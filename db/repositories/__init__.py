"""Repositories: query/persist helpers that take a session and never commit."""

from db.repositories.events import EventRepository
from db.repositories.state import StateRecord, StateRepository

__all__ = ["EventRepository", "StateRecord", "StateRepository"]

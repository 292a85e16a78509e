"""Error types shared across packages.

Every error a user can cause carries a message that names what is wrong (the variable,
the file, the field path), so the CLI can print it as one line.
"""

from __future__ import annotations


class PerpbotError(Exception):
    """Base class for errors that are reported to the operator as one clear line."""


class ConfigError(PerpbotError):
    """A setting or a strategy config is invalid; the message names it."""


class ServiceUnavailableError(PerpbotError):
    """A required service (PostgreSQL, Redis) cannot be reached or started."""


class ConcurrencyConflictError(PerpbotError):
    """An optimistic-concurrency write lost: the row changed since it was read."""

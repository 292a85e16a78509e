"""Configuration of a paper venue: execution terms and injected faults.

Faults are deterministic: each decision is a hash of (seed, venue, request key, operation),
not a draw from a shared random stream. The same request therefore gets the same decision in
every process, and the decision does not depend on what else ran before it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from exchanges.venues import VenueProfile

_TWO_TO_64 = float(2**64)


class Outage(BaseModel):
    """A window on the venue's clock in which every call fails as unreachable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> Outage:
        if self.end <= self.start:
            raise ValueError(f"outage end {self.end.isoformat()} is not after its start")
        return self

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


class FaultConfig(BaseModel):
    """Failures a venue shows, as probabilities per request (0 = never, 1 = always)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = 0
    reject_rate: float = Field(0.0, ge=0, le=1)
    # The order is executed and stored, then the caller is told it timed out.
    timeout_after_fill_rate: float = Field(0.0, ge=0, le=1)
    # Each call sleeps a deterministic time in [0, max_latency_ms] before it runs.
    max_latency_ms: int = Field(0, ge=0, le=60_000)
    # Decided when a withdrawal is accepted; it fails when it would have completed and the
    # money comes back to the account.
    withdrawal_failure_rate: float = Field(0.0, ge=0, le=1)
    # The withdrawal is executed and stored, then the caller is told it timed out.
    drop_withdrawal_response_rate: float = Field(0.0, ge=0, le=1)
    # Windows in which the venue does not answer at all (a `TransientExchangeError` from
    # every call): what the venue-unreachable breaker and alert are rehearsed with.
    outages: tuple[Outage, ...] = ()

    def outage_at(self, at: datetime) -> Outage | None:
        return next((o for o in self.outages if o.covers(at)), None)

    def draw(self, venue: str, key: str, operation: str) -> float:
        """A uniform number in [0, 1) fixed by (seed, venue, key, operation)."""
        digest = hashlib.sha256(f"{self.seed}|{venue}|{key}|{operation}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / _TWO_TO_64

    def decides(self, rate: float, venue: str, key: str, operation: str) -> bool:
        return rate > 0 and self.draw(venue, key, operation) < rate

    def latency_seconds(self, venue: str, key: str, operation: str) -> float:
        if self.max_latency_ms == 0:
            return 0.0
        return self.draw(venue, key, f"{operation}:latency") * self.max_latency_ms / 1000


class PaperVenueConfig(BaseModel):
    """Execution terms of one paper venue account; fees default to the venue's profile."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    maker_fee: Decimal | None = Field(None, ge=Decimal("-0.01"), le=Decimal("0.01"))
    taker_fee: Decimal | None = Field(None, ge=Decimal(0), le=Decimal("0.01"))
    # Fixed part of the market-order slippage (about half the spread), in basis points.
    slippage_bps: Decimal = Field(Decimal(1), ge=0, le=500)
    # Extra slippage per 1,000,000 USD of order notional, in basis points.
    impact_bps_per_million: Decimal = Field(Decimal(5), ge=0, le=10_000)
    leverage: Decimal = Field(Decimal(5), gt=0, le=100)
    # Quantity shown at the top of the book, as USD notional on each side.
    book_depth_usd: Decimal = Field(Decimal(250_000), gt=0)
    withdrawal_fee: Decimal | None = Field(None, ge=0)
    withdrawal_delay_s: int = Field(300, ge=0, le=7 * 24 * 3600)
    faults: FaultConfig = FaultConfig()

    def maker_rate(self, profile: VenueProfile) -> Decimal:
        return profile.maker_fee if self.maker_fee is None else self.maker_fee

    def taker_rate(self, profile: VenueProfile) -> Decimal:
        return profile.taker_fee if self.taker_fee is None else self.taker_fee

    def withdrawal_fee_for(self, profile: VenueProfile) -> Decimal:
        return profile.withdrawal_fee if self.withdrawal_fee is None else self.withdrawal_fee

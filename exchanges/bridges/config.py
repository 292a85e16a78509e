"""Configuration of the paper network: bridge protocol profiles, chain confirmation time,
the paper venues' transfer terms and injected faults (the `paper:` section of
`configs/transfers.yaml`). Failures are deterministic per (seed, protocol, key)."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from exchanges.simulation.config import PaperVenueConfig

_TWO_TO_64 = float(2**64)


def draw(seed: int, name: str, key: str, operation: str) -> float:
    """A uniform number in [0, 1) fixed by its inputs: the same in every process."""
    digest = hashlib.sha256(f"{seed}|{name}|{key}|{operation}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _TWO_TO_64


class BridgeProfile(BaseModel):
    """A simulated bridge protocol: which chains it links, what it costs, how long it takes
    and how often it fails (a failed transfer refunds the sender in full)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_-]+$")
    chains: list[str] = Field(min_length=2)
    assets: list[str] = Field(default_factory=lambda: ["USDC"], min_length=1)
    fee_fixed: Decimal = Field(Decimal(0), ge=0)
    fee_rate: Decimal = Field(Decimal(0), ge=0, le=Decimal("0.05"))
    latency_seconds: int = Field(60, ge=0, le=24 * 3600)
    failure_rate: float = Field(0.0, ge=0, le=1)
    # Fee precision: USDC has 6 decimals on every chain it lives on.
    fee_decimals: int = Field(6, ge=0, le=18)

    @model_validator(mode="after")
    def _distinct_chains(self) -> BridgeProfile:
        if len(set(self.chains)) != len(self.chains):
            raise ValueError(f"bridge {self.name}: chains listed twice in {self.chains}")
        return self


class PaperNetworkConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = 0
    # Time from a wallet transfer to its confirmation (when the venue credits a deposit).
    deposit_confirm_seconds: int = Field(30, ge=0, le=24 * 3600)
    bridges: list[BridgeProfile] = Field(default_factory=list)
    # Transfer terms and faults of each paper venue as the transfer system uses it.
    venues: dict[str, PaperVenueConfig] = Field(default_factory=dict)
    # Injected transient failures: the first N calls per key of `withdraw`, `bridge_send`,
    # `chain_send` raise a transient error (nothing happens). For resilience tests.
    transient_failures: dict[str, int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_operations(self) -> PaperNetworkConfig:
        names = [b.name for b in self.bridges]
        if len(set(names)) != len(names):
            raise ValueError(f"bridges: protocol names must be unique, got {names}")
        unknown = set(self.transient_failures) - set(FAULT_OPERATIONS)
        if unknown:
            raise ValueError(
                f"transient_failures: unknown operations {sorted(unknown)} "
                f"(known: {', '.join(FAULT_OPERATIONS)})"
            )
        if any(n < 0 for n in self.transient_failures.values()):
            raise ValueError("transient_failures: counts must be >= 0")
        return self


FAULT_OPERATIONS = ("withdraw", "bridge_send", "chain_send")

"""Where each venue takes and pays out money, which addresses money may go to, and the
transfer policy (the `routing:` section of `configs/transfers.yaml`).

Every address a transfer sends to — our wallet on a chain, a venue's deposit address — must
be on the allowlist; anything else is refused with an error naming the address.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.errors import ConfigError
from strategies.components.transfer_types import DestinationNotAllowedError

_NAME = r"^[a-z0-9_-]+$"


class VenueChain(BaseModel):
    """The chain and asset a venue withdraws to and accepts deposits on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    chain: str = Field(min_length=1, max_length=32, pattern=_NAME)
    asset: str = Field("USDC", min_length=1, max_length=16)
    # True only when the venue guarantees one withdrawal per idempotency key: then a key
    # whose send outcome is unknown and that the venue does not know may be sent again
    # (under the same key). Otherwise such a transfer goes to NEEDS_RECONCILE.
    idempotent_withdrawals: bool = False


class AllowedAddress(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    chain: str = Field(min_length=1, max_length=32, pattern=_NAME)
    address: str = Field(min_length=1, max_length=128)
    kind: Literal["wallet", "venue_deposit"]
    label: str = Field("", max_length=80)
    venue: str | None = None  # for venue_deposit: whose deposit address this is
    account: str = "main"

    @model_validator(mode="after")
    def _venue_deposit_names_venue(self) -> AllowedAddress:
        if self.kind == "venue_deposit" and not self.venue:
            raise ValueError(f"venue_deposit address {self.address} must name its venue")
        if self.kind == "wallet" and self.venue:
            raise ValueError(f"wallet address {self.address} cannot name a venue")
        return self


class TransferPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Polling a pending withdrawal / bridge / deposit (by the transfers-sweep beat task).
    poll_seconds: float = Field(30.0, gt=0, le=3600)
    # A transfer with no progress for this long is resumed by the sweeper from its state.
    stuck_seconds: float = Field(120.0, gt=0, le=24 * 3600)
    # Re-sends of one key whose outcome stayed unknown, before NEEDS_RECONCILE.
    max_unconfirmed_sends: int = Field(3, ge=1, le=10)
    # Bridge transfers that failed (and were refunded) before the transfer is FAILED.
    max_bridge_attempts: int = Field(3, ge=1, le=10)
    # Opportunity cost of money in flight, as a fraction of the amount per hour: the route
    # choice weighs a slower, cheaper bridge against a faster, dearer one with it.
    time_value_per_hour: Decimal = Field(Decimal("0.00003"), ge=0, le=Decimal("0.01"))
    min_amount: Decimal = Field(Decimal(10), gt=0)
    max_amount: Decimal | None = Field(None, gt=0)
    amount_decimals: int = Field(6, ge=0, le=18)
    sweep_batch: int = Field(200, ge=1, le=10_000)


class TransferRoutingConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    venues: dict[str, VenueChain]
    allowlist: list[AllowedAddress] = Field(default_factory=list)
    policy: TransferPolicy = TransferPolicy()

    @model_validator(mode="after")
    def _every_chain_has_one_wallet(self) -> TransferRoutingConfig:
        wallets: dict[str, str] = {}
        for entry in self.allowlist:
            if entry.kind != "wallet":
                continue
            if entry.chain in wallets:
                raise ValueError(
                    f"allowlist: two wallets on chain {entry.chain} "
                    f"({wallets[entry.chain]} and {entry.address}); transfers use one per chain"
                )
            wallets[entry.chain] = entry.address
        for venue, route in self.venues.items():
            if route.chain not in wallets:
                raise ValueError(
                    f"venues.{venue}: chain {route.chain} has no wallet on the allowlist "
                    f"(add an entry with kind: wallet, chain: {route.chain})"
                )
        return self

    def venue(self, name: str) -> VenueChain:
        try:
            return self.venues[name]
        except KeyError:
            known = ", ".join(sorted(self.venues)) or "none"
            raise ConfigError(
                f"venue {name!r} has no transfer route (configured: {known})"
            ) from None

    def wallet(self, chain: str) -> str:
        for entry in self.allowlist:
            if entry.kind == "wallet" and entry.chain == chain:
                return entry.address
        raise ConfigError(f"no wallet configured on chain {chain!r}")

    def check_allowed(self, chain: str, address: str, purpose: str) -> AllowedAddress:
        """The allowlist entry for `address` on `chain`, or `DestinationNotAllowedError`."""
        for entry in self.allowlist:
            if entry.chain == chain and entry.address.lower() == address.lower():
                return entry
        raise DestinationNotAllowedError(
            f"{purpose}: address {address} on chain {chain} is not on the transfer allowlist; "
            "refusing to send (add it to routing.allowlist in the transfers config if it is ours)"
        )

    def check_venue_deposit(self, venue: str, account: str, chain: str, address: str) -> None:
        """A venue's deposit address must be allowlisted *as that venue's* address."""
        entry = self.check_allowed(chain, address, f"deposit to {venue}/{account}")
        if entry.kind != "venue_deposit" or entry.venue != venue or entry.account != account:
            raise DestinationNotAllowedError(
                f"deposit to {venue}/{account}: address {address} on chain {chain} is on the "
                f"allowlist as {entry.kind} {entry.venue or entry.label or ''}".rstrip()
                + f", not as the deposit address of {venue}/{account}; refusing to send"
            )

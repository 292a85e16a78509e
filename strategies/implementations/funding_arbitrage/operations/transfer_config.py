"""Where each venue takes and pays out money, which addresses money may go to, and the
transfer policy (the `routing:` section of `configs/transfers.yaml`).

Every address a transfer sends to — our wallet on a chain, a venue's deposit address — must
be on the allowlist; anything else is refused with an error naming the address. The policy's
`max_amount` (per transfer) and `route_cap_24h` (per route and rolling 24 h) have no default:
a config without them does not load.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.errors import ConfigError
from exchanges.base import Capability
from strategies.components.transfer_types import (
    DestinationNotAllowedError,
    RouteCap,
    VenueDirectory,
)

_NAME = r"^[a-z0-9_-]+$"
# Above any real treasury, below what `fund_transfers.amount_usd` (NUMERIC(38, 18)) holds.
_MAX_MONEY = Decimal(10) ** 12
ROUTE_CAP_WINDOW = timedelta(hours=24)


class VenueChain(BaseModel):
    """The chain and asset a venue withdraws to and accepts deposits on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    chain: str = Field(min_length=1, max_length=32, pattern=_NAME)
    asset: str = Field("USDC", min_length=1, max_length=16)
    # True only when the venue guarantees one withdrawal per idempotency key: then a key
    # whose send outcome is unknown and that the venue does not know may be sent again
    # (under the same key). Otherwise such a transfer goes to NEEDS_RECONCILE. The manager
    # refuses true for a venue whose adapter does not declare `withdrawal_key_dedupe`.
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
    min_amount: Decimal = Field(Decimal(10), gt=0, le=_MAX_MONEY)
    # Required: the most one transfer moves, and the most one route (venue/account ->
    # venue/account, in the asset) may be asked for in any rolling 24 h.
    max_amount: Decimal = Field(gt=0, le=_MAX_MONEY)
    route_cap_24h: Decimal = Field(gt=0, le=_MAX_MONEY)
    # Decimal places an amount may have (USDC: 6).
    amount_decimals: int = Field(6, ge=0, le=18)
    sweep_batch: int = Field(200, ge=1, le=10_000)

    @model_validator(mode="after")
    def _limits_in_order(self) -> TransferPolicy:
        if self.max_amount < self.min_amount:
            raise ValueError(f"max_amount {self.max_amount} is below min_amount {self.min_amount}")
        if self.route_cap_24h < self.max_amount:
            raise ValueError(
                f"route_cap_24h {self.route_cap_24h} is below max_amount {self.max_amount}: "
                "no transfer of the maximum could ever be made"
            )
        return self

    @property
    def route_cap(self) -> RouteCap:
        return RouteCap(self.route_cap_24h, ROUTE_CAP_WINDOW)


class TransferRoutingConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    venues: dict[str, VenueChain]
    allowlist: list[AllowedAddress] = Field(default_factory=list)
    policy: TransferPolicy

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

    def check_withdrawal_dedupe(self, venues: VenueDirectory) -> None:
        """`idempotent_withdrawals: true` is a claim about the venue's adapter: refuse it
        (`ConfigError` naming the field) where the adapter does not declare that it keeps one
        withdrawal per idempotency key."""
        for name, route in sorted(self.venues.items()):
            if route.idempotent_withdrawals and (
                Capability.WITHDRAWAL_KEY_DEDUPE not in venues.capabilities(name)
            ):
                raise ConfigError(
                    f"routing.venues.{name}.idempotent_withdrawals: true, but the {name} "
                    f"adapter does not declare {Capability.WITHDRAWAL_KEY_DEDUPE.value} (one "
                    "withdrawal per idempotency key), so a resend after an unknown outcome "
                    "could withdraw twice; set it to false"
                )

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

"""Checking a transfer request before anything is stored: venues, amount, asset, route,
and the destination's deposit address against the allowlist."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal

from exchanges.bridges.base import BridgeRoute
from strategies.components.transfer_types import NewTransfer, TransferRefusedError, VenueDirectory
from strategies.implementations.funding_arbitrage.operations.bridge_manager import BridgeManager
from strategies.implementations.funding_arbitrage.operations.transfer_config import (
    TransferRoutingConfig,
)

MAX_DEDUPE_KEY = 128


def default_dedupe_key(
    strategy_name: str | None,
    from_venue: str,
    from_account: str,
    to_venue: str,
    to_account: str,
    asset: str,
) -> str:
    """One in-flight transfer per (strategy, source, destination, asset)."""
    who = strategy_name or "operator"
    key = f"{who}:{from_venue}/{from_account}->{to_venue}/{to_account}:{asset}"
    if len(key) > MAX_DEDUPE_KEY:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def check_amount(amount: object, routing: TransferRoutingConfig) -> Decimal:
    policy = routing.policy
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise TransferRefusedError(f"amount must be a finite Decimal, got {amount!r}")
    if amount < policy.min_amount or (policy.max_amount is not None and amount > policy.max_amount):
        upper = f" and at most {policy.max_amount}" if policy.max_amount is not None else ""
        raise TransferRefusedError(
            f"amount {amount} is outside the transfer policy: at least {policy.min_amount}{upper}"
        )
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > policy.amount_decimals:
        raise TransferRefusedError(
            f"amount {amount} has more than {policy.amount_decimals} decimals"
        )
    return amount


def new_transfer(
    *,
    routing: TransferRoutingConfig,
    bridges: BridgeManager,
    venues: VenueDirectory,
    from_venue: str,
    from_account: str,
    to_venue: str,
    to_account: str,
    amount: Decimal,
    asset: str | None,
    reason: str | None,
    strategy_name: str | None,
    dedupe_key: str | None,
    next_check_at: datetime,
) -> NewTransfer:
    """A validated `NewTransfer`, or `TransferRefusedError` / `ConfigError` naming the problem."""
    if from_venue == to_venue:
        raise TransferRefusedError(f"transfer from {from_venue} to itself: pick two venues")
    check_amount(amount, routing)
    source, target = routing.venue(from_venue), routing.venue(to_venue)
    chosen = asset or source.asset
    for name, route in ((from_venue, source), (to_venue, target)):
        if route.asset != chosen:
            raise TransferRefusedError(f"{name} moves {route.asset} on {route.chain}, not {chosen}")
    routing.wallet(source.chain)
    routing.wallet(target.chain)
    if source.chain != target.chain:
        bridges.check_route(BridgeRoute(source.chain, target.chain, chosen))
    address = venues.venue(to_venue, to_account).deposit_address(chosen, target.chain)
    routing.check_venue_deposit(to_venue, to_account, target.chain, address)
    return NewTransfer(
        from_venue=from_venue,
        from_account=from_account,
        to_venue=to_venue,
        to_account=to_account,
        asset=chosen,
        amount=amount,
        from_chain=source.chain,
        to_chain=target.chain,
        destination_address=address,
        reason=reason,
        strategy_name=strategy_name,
        dedupe_key=dedupe_key
        or default_dedupe_key(
            strategy_name, from_venue, from_account, to_venue, to_account, chosen
        ),
        next_check_at=next_check_at,
    )

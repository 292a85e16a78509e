"""Checking a transfer request before anything is stored: venues, amount, asset, route,
the destination's deposit address against the allowlist, and the dedupe key.

Dedupe keys live in two namespaces, so that a strategy named like the operator cannot share
the operator's transfer: `operator:<need>` for requests without a strategy (the CLI) and
`strategy:<name>:<need>` for a strategy's, where `<need>` is the caller's key or, by
default, the route (`hyperliquid/main->lighter/main:USDC`).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal

from exchanges.bridges.base import BridgeRoute
from strategies.components.transfer_types import (
    NewTransfer,
    TransferRefusedError,
    VenueDirectory,
    route_label,
)
from strategies.implementations.funding_arbitrage.operations.bridge_manager import BridgeManager
from strategies.implementations.funding_arbitrage.operations.transfer_config import (
    TransferPolicy,
    TransferRoutingConfig,
)

MAX_DEDUPE_KEY = 128
MAX_STRATEGY_NAME = 50  # fund_transfers.strategy_name
_SHOWN_DIGITS = 40


def _fit(key: str) -> str:
    if len(key) > MAX_DEDUPE_KEY:
        return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def namespaced_key(strategy_name: str | None, route: str, requested: str | None = None) -> str:
    """The key under which one transfer per need is in flight: the caller's key or the
    route, in the operator's namespace (no strategy) or the strategy's."""
    owner = "operator" if strategy_name is None else f"strategy:{strategy_name}"
    return _fit(f"{owner}:{requested or route}")


def legacy_key(strategy_name: str | None, route: str, requested: str | None = None) -> str:
    """The key the same need was stored under before the namespaces (the caller's key as
    given, or `<strategy or "operator">:<route>`): read to find transfers requested before,
    and still in flight; nothing is stored under it."""
    return requested or _fit(f"{strategy_name or 'operator'}:{route}")


def _shown(amount: Decimal) -> str:
    text = str(amount)
    if len(text) <= _SHOWN_DIGITS:
        return text
    return f"{text[:_SHOWN_DIGITS]}... ({len(amount.as_tuple().digits)} digits)"


def decimal_places(amount: Decimal) -> int:
    """Decimal places of a finite amount, trailing zeros not counted. Reads the digits only:
    no context arithmetic, so no exponent is too large for it."""
    _, digits, exponent = amount.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0:
        return 0
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -exponent - trailing_zeros)


def check_amount(amount: object, policy: TransferPolicy, asset: str) -> Decimal:
    """`amount` if the policy allows it, else `TransferRefusedError` naming the amount and
    the limit. Only comparisons and digit counts: `1E+999999999` is refused, not an
    arithmetic overflow."""
    if not isinstance(amount, Decimal):
        raise TransferRefusedError(
            f"amount must be a finite Decimal, got {type(amount).__name__} {amount!r}"
        )
    shown = _shown(amount)
    allowed = (
        f"a transfer moves {policy.min_amount} to {policy.max_amount} {asset} "
        "(routing.policy.min_amount, max_amount)"
    )
    if not amount.is_finite():
        raise TransferRefusedError(f"amount {shown} is not a finite Decimal: {allowed}")
    if amount <= 0:
        raise TransferRefusedError(f"amount {shown} is not positive: {allowed}")
    if amount < policy.min_amount:
        raise TransferRefusedError(
            f"amount {shown} {asset} is below the transfer policy: at least "
            f"{policy.min_amount} {asset} per transfer (routing.policy.min_amount)"
        )
    if amount > policy.max_amount:
        raise TransferRefusedError(
            f"amount {shown} {asset} is above the transfer policy: at most "
            f"{policy.max_amount} {asset} per transfer (routing.policy.max_amount)"
        )
    places = decimal_places(amount)
    if places > policy.amount_decimals:
        raise TransferRefusedError(
            f"amount {shown} {asset} has {places} decimal places, more than "
            f"{policy.amount_decimals} decimals allowed for {asset} "
            "(routing.policy.amount_decimals)"
        )
    return amount


def _check_strategy_name(strategy_name: str | None) -> None:
    if strategy_name is None:
        return
    if not strategy_name or len(strategy_name) > MAX_STRATEGY_NAME or ":" in strategy_name:
        raise TransferRefusedError(
            f"strategy_name {strategy_name!r} must be 1 to {MAX_STRATEGY_NAME} characters "
            "without ':' (the dedupe keys' separator)"
        )


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
    _check_strategy_name(strategy_name)
    source, target = routing.venue(from_venue), routing.venue(to_venue)
    chosen = asset or source.asset
    check_amount(amount, routing.policy, chosen)
    for name, venue_chain in ((from_venue, source), (to_venue, target)):
        if venue_chain.asset != chosen:
            raise TransferRefusedError(
                f"{name} moves {venue_chain.asset} on {venue_chain.chain}, not {chosen}"
            )
    routing.wallet(source.chain)
    routing.wallet(target.chain)
    if source.chain != target.chain:
        bridges.check_route(BridgeRoute(source.chain, target.chain, chosen))
    address = venues.venue(to_venue, to_account).deposit_address(chosen, target.chain)
    routing.check_venue_deposit(to_venue, to_account, target.chain, address)
    route = route_label(from_venue, from_account, to_venue, to_account, chosen)
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
        dedupe_key=namespaced_key(strategy_name, route, dedupe_key),
        legacy_dedupe_key=legacy_key(strategy_name, route, dedupe_key),
        next_check_at=next_check_at,
    )

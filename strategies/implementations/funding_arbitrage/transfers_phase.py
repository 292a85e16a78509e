"""The transfers phase's decisions, as pure code: which needs to announce, which are gone.

Moving money between venues is the fund-transfer manager's job (withdraw, bridge, deposit,
each step idempotent). The phase decides what should move (`margin.transfer_needs`) and
which of those needs are news: the needs being waited on are kept in the strategy's state,
so a need is announced (`transfer.requested`) when it appears or changes, and resolved
(`transfer.need_resolved`) when it is gone (`track_needs`).

The executor then hands every current need to the transfer manager: `request_transfer` is
idempotent per route, so a need already being served returns the transfer in flight and
nothing new is made. Where no transfer can run (live: no wallet or bridge adapters) the
manager refuses with `TransfersUnavailableError`: the need is only recorded, for an
operator to act on, and the pass reports a `TransferNotStarted` for it (no event: the need
was announced when it appeared).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.money import quantize_down
from strategies.implementations.funding_arbitrage.models import TransferNeed

STATE_KEY = "transfer_requests"
# Transfer amounts carry at most 6 decimals (USDC); a need is rounded down to that.
AMOUNT_STEP = Decimal("0.000001")


def need_key(need: TransferNeed) -> str:
    return f"{need.from_venue}->{need.to_venue}"


def transfer_amount(need: TransferNeed) -> Decimal:
    return quantize_down(need.amount_usd, AMOUNT_STEP)


@dataclass(frozen=True, slots=True)
class NeedChanges:
    """How the current needs compare with the ones being waited on."""

    announced: Mapping[str, TransferNeed]  # new, or changed in amount
    resolved: tuple[str, ...]  # waited on, no longer needed
    waiting: Mapping[str, Any]  # what the state keeps: amount and since when, per need


def track_needs(
    pending: Mapping[str, Any], needs: Sequence[TransferNeed], now: datetime
) -> NeedChanges:
    current = {need_key(n): n for n in needs}
    announced = {
        key: need
        for key, need in current.items()
        if key not in pending or Decimal(str(pending[key]["amount_usd"])) != need.amount_usd
    }
    waiting = {
        key: {"amount_usd": need.amount_usd, "since": now} if key in announced else pending[key]
        for key, need in current.items()
    }
    return NeedChanges(announced, tuple(sorted(set(pending) - set(current))), waiting)

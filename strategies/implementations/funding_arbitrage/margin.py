"""Which venue needs margin from which: the decision behind the transfers phase.

A venue whose free margin is below its `min_free_margin_usd` needs
`target_free_margin_usd - available`; a venue above its target can give
`available - target`. Needs are served largest first from the donor with the most excess
(ties by venue name), so the result depends only on the balances.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_DOWN, Decimal

from exchanges.base import Balance
from strategies.implementations.funding_arbitrage.config import VenueSettings
from strategies.implementations.funding_arbitrage.models import TransferNeed

CENT = Decimal("0.01")


def transfer_needs(
    balances: Mapping[str, Balance], venues: Sequence[VenueSettings]
) -> list[TransferNeed]:
    """Transfers that would bring every venue back to its minimum free margin."""
    short: dict[str, Decimal] = {}
    spare: dict[str, Decimal] = {}
    for settings in venues:
        balance = balances.get(settings.name)
        if balance is None:
            continue
        if balance.available < settings.min_free_margin_usd:
            short[settings.name] = settings.target_margin_usd - balance.available
        elif balance.available > settings.target_margin_usd:
            spare[settings.name] = balance.available - settings.target_margin_usd
    needs: list[TransferNeed] = []
    for venue, missing in sorted(short.items(), key=lambda item: (-item[1], item[0])):
        while missing > 0 and spare:
            donor = min(spare, key=lambda name: (-spare[name], name))
            amount = min(missing, spare[donor]).quantize(CENT, rounding=ROUND_DOWN)
            if amount <= 0:
                break
            available = balances[venue].available
            needs.append(
                TransferNeed(
                    from_venue=donor,
                    to_venue=venue,
                    amount_usd=amount,
                    reason=f"{venue} has {available:.2f} USD free margin, below its minimum",
                )
            )
            missing -= amount
            spare[donor] -= amount
            if spare[donor] < CENT:
                del spare[donor]
    return needs

"""The support matrix of the ccxt venues, derived from the code: venue x capability, verified
on recorded traffic or refused with the reason (docs/venues.md shows it; a test keeps the two
equal). `python -m exchanges.support_matrix` prints it."""

from __future__ import annotations

import ccxt

from exchanges.base import Capability
from exchanges.ccxt_client import CcxtExchangeClient
from exchanges.ccxt_venues import CAPABILITY_KEYS, CCXT_NEVER, make_ccxt_exchange
from exchanges.venue_quirks import all_quirks

VENUE_ORDER = (
    "hyperliquid",
    "paradex",
    "lighter",
    "aster",
    "backpack",
    "grvt",
    "extended",
    "apex",
    "dydx",
)
START = "<!-- support-matrix:start (python -m exchanges.support_matrix) -->"
END = "<!-- support-matrix:end -->"


def verified(venue: str) -> frozenset[Capability]:
    return CcxtExchangeClient(venue, make_ccxt_exchange(venue)).capabilities()


def reason(venue: str, capability: Capability) -> str:
    refused = all_quirks()[venue].reason(capability)
    if refused is not None:
        return refused
    if capability in CCXT_NEVER:
        return CCXT_NEVER[capability]
    needs = " or ".join(" + ".join(group) for group in CAPABILITY_KEYS[capability])
    return f"ccxt {ccxt.__version__} has none (needs {needs})"


def render() -> str:
    """The matrix, then every refusal's reason per venue, as Markdown."""
    capabilities = list(Capability)
    lines = [
        START,
        f"ccxt {ccxt.__version__}. ✓ verified on recorded traffic, ✗ refused (reasons below).",
        "",
        "| venue | " + " | ".join(c.value for c in capabilities) + " |",
        "|---|" + "---|" * len(capabilities),
    ]
    works = {venue: verified(venue) for venue in VENUE_ORDER}
    for venue in VENUE_ORDER:
        cells = ["✓" if c in works[venue] else "✗" for c in capabilities]
        lines.append(f"| {venue} | " + " | ".join(cells) + " |")
    lines.append("")
    for venue in VENUE_ORDER:
        refused = [c for c in capabilities if c not in works[venue]]
        lines.append(
            f"- **{venue}**: " + "; ".join(f"{c.value}: {reason(venue, c)}" for c in refused)
        )
    lines.append(END)
    return "\n".join(lines)


if __name__ == "__main__":
    print(render())

"""What perpbot knows about each venue before asking it: fees, funding intervals, sizes.

This table feeds the paper venue and the scenario generator, and is a documented starting
point for cost estimates. Real fees change (tiers, promotions, rebates) and funding intervals
can differ per market: in live mode the ccxt adapter reads both from the venue itself and this
table is not consulted. Values are the base (lowest-volume) tier as published by each venue
in 2025; a negative maker fee is a rebate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from core.errors import ConfigError

HOURS_PER_DAY = 24


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """Order size and price grid of a perpetual market, plus its leverage limit."""

    min_qty: Decimal
    qty_step: Decimal
    tick_size: Decimal
    max_leverage: Decimal
    # Half the initial margin at max leverage (Hyperliquid's rule, common elsewhere). Worked
    # out once: a simulated venue checks it on every tick of every open position.
    maintenance_margin_rate: Decimal = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "maintenance_margin_rate", Decimal(1) / (2 * self.max_leverage))


@dataclass(frozen=True, slots=True)
class VenueProfile:
    name: str
    ccxt_id: str
    maker_fee: Decimal  # fraction of notional; negative is a rebate
    taker_fee: Decimal
    funding_interval_hours: int  # the venue's usual interval
    withdrawal_fee: Decimal  # USDC, deducted from the amount withdrawn
    deposit_chain: str
    # Symbols whose interval differs from the venue's usual one.
    interval_overrides: dict[str, int] = field(default_factory=dict)
    # Typical hourly funding level on this venue, used by the scenario generator. Venues
    # differ persistently (user mix, premium formula, caps), which is what funding arbitrage
    # earns from.
    typical_hourly_funding: Decimal = Decimal("0.0000125")

    def interval_for(self, symbol: str) -> int:
        return self.interval_overrides.get(symbol, self.funding_interval_hours)


VENUES: dict[str, VenueProfile] = {
    profile.name: profile
    for profile in (
        VenueProfile(
            "hyperliquid",
            "hyperliquid",
            maker_fee=Decimal("0.00015"),
            taker_fee=Decimal("0.00045"),
            funding_interval_hours=1,
            withdrawal_fee=Decimal(1),
            deposit_chain="arbitrum",
            typical_hourly_funding=Decimal("0.0000125"),
        ),
        VenueProfile(
            "lighter",
            "lighter",
            maker_fee=Decimal(0),
            taker_fee=Decimal(0),
            funding_interval_hours=1,
            withdrawal_fee=Decimal(0),
            deposit_chain="ethereum",
            typical_hourly_funding=Decimal("0.0000080"),
        ),
        VenueProfile(
            "dydx",
            "dydx",
            maker_fee=Decimal("0.0001"),
            taker_fee=Decimal("0.0005"),
            funding_interval_hours=1,
            withdrawal_fee=Decimal(0),
            deposit_chain="noble",
            typical_hourly_funding=Decimal("0.0000100"),
        ),
        VenueProfile(
            "backpack",
            "backpack",
            maker_fee=Decimal("0.0002"),
            taker_fee=Decimal("0.0005"),
            funding_interval_hours=1,
            withdrawal_fee=Decimal(1),
            deposit_chain="solana",
            typical_hourly_funding=Decimal("0.0000150"),
        ),
        VenueProfile(
            "extended",
            "extended",
            maker_fee=Decimal(0),
            taker_fee=Decimal("0.00025"),
            funding_interval_hours=1,
            withdrawal_fee=Decimal("0.5"),
            deposit_chain="arbitrum",
            typical_hourly_funding=Decimal("0.0000220"),
        ),
        VenueProfile(
            "paradex",
            "paradex",
            maker_fee=Decimal(0),
            taker_fee=Decimal("0.0002"),
            funding_interval_hours=8,
            withdrawal_fee=Decimal(0),
            deposit_chain="starknet",
            typical_hourly_funding=Decimal("0.0000040"),
        ),
        VenueProfile(
            "grvt",
            "grvt",
            maker_fee=Decimal("-0.0001"),
            taker_fee=Decimal("0.00045"),
            funding_interval_hours=8,
            withdrawal_fee=Decimal(1),
            deposit_chain="zksync",
            typical_hourly_funding=Decimal("0.0000090"),
        ),
        VenueProfile(
            "apex",
            "apex",
            maker_fee=Decimal("0.0002"),
            taker_fee=Decimal("0.0005"),
            funding_interval_hours=8,
            withdrawal_fee=Decimal(1),
            deposit_chain="arbitrum",
            typical_hourly_funding=Decimal("0.0000110"),
        ),
        # Centralised venues whose funding history is in the sample (data/sample/): here so
        # a backtest can replay them on the simulated venue. Base-tier USD-M fees, 2025.
        VenueProfile(
            "binance",
            "binanceusdm",
            maker_fee=Decimal("0.0002"),
            taker_fee=Decimal("0.0005"),
            funding_interval_hours=8,
            withdrawal_fee=Decimal(1),
            deposit_chain="arbitrum",
        ),
        VenueProfile(
            "bybit",
            "bybit",
            maker_fee=Decimal("0.0002"),
            taker_fee=Decimal("0.00055"),
            funding_interval_hours=8,
            withdrawal_fee=Decimal(1),
            deposit_chain="arbitrum",
        ),
        VenueProfile(
            "aster",
            "aster",
            maker_fee=Decimal("0.0001"),
            taker_fee=Decimal("0.00035"),
            funding_interval_hours=8,
            withdrawal_fee=Decimal("0.5"),
            deposit_chain="bsc",
            interval_overrides={"SOL": 4},
            typical_hourly_funding=Decimal("0.0000030"),
        ),
    )
}

SYMBOL_SPECS: dict[str, SymbolSpec] = {
    "BTC": SymbolSpec(Decimal("0.001"), Decimal("0.001"), Decimal("0.1"), Decimal(40)),
    "ETH": SymbolSpec(Decimal("0.01"), Decimal("0.01"), Decimal("0.01"), Decimal(25)),
    "SOL": SymbolSpec(Decimal("0.1"), Decimal("0.1"), Decimal("0.001"), Decimal(20)),
}
DEFAULT_SYMBOL_SPEC = SymbolSpec(Decimal(1), Decimal(1), Decimal("0.0001"), Decimal(10))


def venue_profile(name: str) -> VenueProfile:
    """The profile of a known venue; a `ConfigError` listing the known ones otherwise."""
    try:
        return VENUES[name]
    except KeyError:
        known = ", ".join(sorted(VENUES))
        raise ConfigError(f"unknown venue {name!r}; known venues: {known}") from None


def symbol_spec(symbol: str) -> SymbolSpec:
    return SYMBOL_SPECS.get(symbol, DEFAULT_SYMBOL_SPEC)


def check_interval_hours(value: Decimal, what: str) -> int:
    """A funding interval must be a whole number of hours that divides a day (1, 2, 4, 8...).

    Funding times are multiples of the interval since midnight UTC, as on every venue here.
    """
    if value != value.to_integral_value() or value <= 0 or HOURS_PER_DAY % int(value) != 0:
        raise ValueError(f"{what}: funding interval {value} h is not a whole divisor of 24 hours")
    return int(value)

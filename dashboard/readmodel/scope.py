"""What every query needs besides its session: the configured strategies and the time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from strategies.base_strategy import StrategyConfig


@dataclass(frozen=True, slots=True)
class VenueAccountUse:
    venue: str
    account: str
    strategies: tuple[str, ...]


@dataclass(frozen=True)
class Scope:
    configs: Mapping[str, StrategyConfig]
    now: datetime  # the deployment's clock (simulated in the demo)
    # Paper venues keep their accounts in the paper_* tables; live venues' balances, margins
    # and liquidation prices are not stored by perpbot, so the pages say so.
    paper: bool

    def accounts(self) -> list[VenueAccountUse]:
        """Every (venue, account) a configured strategy trades on, with who uses it."""
        users: dict[tuple[str, str], list[str]] = {}
        for name, config in sorted(self.configs.items()):
            for venue, account in config.venue_accounts():
                users.setdefault((venue, account), []).append(name)
        return [VenueAccountUse(v, a, tuple(names)) for (v, a), names in sorted(users.items())]

    def account_of(self, strategy: str, venue: str) -> str | None:
        config = self.configs.get(strategy)
        if config is None:
            return None
        return next((a for v, a in config.venue_accounts() if v == venue), None)

    def funding_arbitrage(self) -> list[str]:
        return sorted(n for n, c in self.configs.items() if c.type == "funding_arbitrage")

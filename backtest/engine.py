"""One backtest run: the real strategy, in-memory components, a manual clock, hourly steps.

Per venue the config names, an `InMemoryVenue` over that venue's history (`history.py`),
funded with `capital_usd`; an `InMemoryKit` gives the strategy its in-memory position, state
and event stores and a funding-rate source; `build_strategy` builds the same class the
workers run. Each step the clock moves to the hour plus `offset` (default one minute: the
venues stamp settlements a few milliseconds after the hour, and a rate is usable only once
settled), every settlement up to now is stored in the rate source as a quote (what the funding
collector does live; the history holds realised rates, so the last one paid stands for the
next), and `run_cycle` runs all phases. Nothing is read ahead: the venues answer for the
clock's now only.

What a step records is cheap (each venue's new ledger rows, its balance and positions);
everything else is measured once at the end (`metrics.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from backtest.history import LOOKBACK, BacktestData
from core.clock import ManualClock
from core.enums import LedgerKind
from core.errors import ConfigError
from exchanges.memory import InMemoryVenue, InMemoryVenueState
from strategies.base_strategy import StrategyConfig
from strategies.components.base_components import PositionRecord
from strategies.components.funding_rates import InMemoryFundingRateSource
from strategies.components.kits import InMemoryKit
from strategies.components.position_manager import sequential_ids
from strategies.factory import build_strategy, load_strategy_config
from strategies.implementations.funding_arbitrage.decisions import Switch
from strategies.implementations.funding_arbitrage.outcomes import RebalanceOutcome

ZERO = Decimal(0)
STEP = timedelta(hours=1)
OFFSET = timedelta(minutes=1)
COLLATERAL = "USDC"


@dataclass(frozen=True, slots=True)
class Step:
    """The account after one cycle (cumulative amounts since the start)."""

    at: datetime
    equity: Decimal  # all venues: collateral + unrealized PnL
    funding: Decimal  # received minus paid
    fees: Decimal
    margin_used: Decimal
    open_legs: int
    unhedged_usd: Decimal  # worst symbol: |sum of signed notionals across venues|


@dataclass
class RunResult:
    """What a run left behind: the steps, the positions, the venues' books."""

    key: str
    config: StrategyConfig
    data: BacktestData
    capital_usd: Decimal
    steps: list[Step] = field(default_factory=list)
    positions: list[PositionRecord] = field(default_factory=list)
    switches: int = 0
    failed_cycles: int = 0
    first_failure: str | None = None
    venues: dict[str, InMemoryVenueState] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)  # venue -> account name


Progress = Callable[[int, int], None]


def run(
    key: str,
    config_data: Mapping[str, Any],
    data: BacktestData,
    *,
    capital_usd: Decimal = Decimal(10_000),
    source_name: str = "<config>",
    progress: Progress | None = None,
) -> RunResult:
    """Run one validated config through `data` from `data.start` to `data.end`."""
    config = load_strategy_config(config_data, source_name=source_name)
    accounts = dict(_venue_accounts(config))
    missing = sorted(set(accounts) - set(data.markets))
    if missing:
        raise ConfigError(f"{source_name}: no history loaded for venue(s) {', '.join(missing)}")
    clock = ManualClock(data.start)
    states = {v: InMemoryVenueState(v, data.markets[v]) for v in accounts}
    clients = {v: InMemoryVenue(states[v], clock=clock, account=a) for v, a in accounts.items()}
    for venue, client in clients.items():
        client.credit_deposit(f"backtest:{venue}", COLLATERAL, capital_usd, "backtest")
    rates = InMemoryFundingRateSource()
    kit = InMemoryKit(clock, clients, funding_rates=rates, position_ids=sequential_ids(key))
    strategy = build_strategy(config, kit)
    result = RunResult(key, config, data, capital_usd, venues=states, accounts=accounts)
    quoted_until = data.start - 2 * LOOKBACK  # settlements stored up to here
    ledger_seen = dict.fromkeys(states, 0)
    funding = fees = ZERO
    total = int((data.end - data.start) / STEP)
    strategy.start()
    for index in range(total):
        clock.set(max(clock.now(), data.start + index * STEP + OFFSET))
        now = clock.now()
        for venue in accounts:  # every settlement up to now, none after it
            rates.add(data.quotes(venue, quoted_until, now))
        quoted_until = now
        cycle = strategy.run_cycle(now)
        if not cycle.ok:
            result.failed_cycles += 1
            result.first_failure = result.first_failure or str(cycle.error)
        result.switches += _switches(cycle.actions)
        for venue, state in states.items():
            new = state.ledger[ledger_seen[venue] :]
            ledger_seen[venue] = len(state.ledger)
            for entry in new:
                if entry.kind is LedgerKind.FUNDING:
                    funding += entry.amount
                elif entry.kind is LedgerKind.TRADING_FEE:
                    fees -= entry.amount
        result.steps.append(_step(clock.now(), clients, funding, fees))
        if progress is not None:
            progress(index + 1, total)
    strategy.stop()
    result.positions = kit.positions().find(strategy.name)
    return result


def _venue_accounts(config: StrategyConfig) -> list[tuple[str, str]]:
    accounts = config.venue_accounts()
    if not accounts:
        raise ConfigError(f"strategy type {config.type!r} names no venue to backtest")
    return accounts


def _switches(actions: tuple[object, ...]) -> int:
    return sum(
        1
        for action in actions
        if isinstance(action, RebalanceOutcome)
        and isinstance(action.decision, Switch)
        and action.decision.fired
    )


def _step(
    at: datetime, clients: Mapping[str, InMemoryVenue], funding: Decimal, fees: Decimal
) -> Step:
    equity = margin = ZERO
    legs = 0
    exposure: dict[str, Decimal] = {}
    for client in clients.values():
        balance = client.balance()
        equity += balance.total
        margin += balance.margin_used
        for position in client.positions():
            legs += 1
            signed = position.qty * position.mark_price
            exposure[position.symbol] = exposure.get(position.symbol, ZERO) + signed
    unhedged = max((abs(v) for v in exposure.values()), default=ZERO)
    return Step(at, equity, funding, fees, margin, legs, unhedged)

"""What a run earned and risked, measured from the simulated venues' own books.

Money comes from the venues' ledgers and fills (what they booked, not what the strategy
believes), positions from the strategy's position manager:

- `net_pnl`: equity at the end minus the capital deposited (open positions marked to
  market, without their exit fees);
- `funding_received` / `funding_paid`: the funding ledger rows above / below zero;
- `fees`: trading fees booked; `slippage`: per taker fill, |fill price - mark| * quantity
  (what the modelled book cost beyond the mark; a maker fill trades at its own limit);
- `opens`, `closes`, `switches`; `time_in_market_hours`: hours with at least one leg held;
- `apr_on_capital`: net PnL over the peak margin in use, per year of the run;
- `max_drawdown`: the largest fall of equity from an earlier peak (hourly);
- `worst_unhedged_usd`: the largest |long notional - short notional| of one symbol at a step;
- per pair traded: its contribution and its spread persistence (hours the divergence stayed
  above the entry threshold: share, runs, median and longest run), from the pre-screen;
- for a grid (`grid`): its fills (buys, sells, maker), the volume traded and the trading
  PnL the venues realised (take-profits and stops), and its episodes (flat to held to flat).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from backtest.engine import RunResult
from core.enums import LedgerKind, Liquidity, OrderSide, PositionStatus
from funding_service.history.screen import PairScreen, ScreenParams, screen
from funding_service.history.window import select
from strategies.components.base_components import PositionRecord

ZERO = Decimal(0)
HOURS_PER_YEAR = Decimal(24 * 365)


@dataclass(frozen=True)
class PairFigures:
    symbol: str
    long_venue: str
    short_venue: str
    positions: int
    hours_held: float
    funding: Decimal
    fees: Decimal
    contribution: Decimal  # funding - fees + trading PnL (open ones marked to market)
    persistence: PairScreen | None  # None: the pair has no overlapping history


@dataclass(frozen=True)
class GridFigures:
    buys: int
    sells: int
    maker_fills: int
    volume_usd: Decimal
    realized_pnl: Decimal  # the venues' realised trading PnL (before fees and funding)
    episodes: int  # position records: flat -> held -> flat


@dataclass(frozen=True)
class Metrics:
    key: str
    hours: int
    capital: Decimal
    net_pnl: Decimal
    funding_received: Decimal
    funding_paid: Decimal
    fees: Decimal
    slippage: Decimal
    opens: int
    closes: int
    switches: int
    open_at_end: int
    liquidations: int
    time_in_market_hours: int
    capital_used: Decimal
    apr_on_capital: Decimal
    max_drawdown: Decimal
    worst_unhedged_usd: Decimal
    failed_cycles: int
    first_failure: str | None
    pairs: tuple[PairFigures, ...]
    grid: GridFigures | None = None  # a grid run only


def measure(result: RunResult) -> Metrics:
    received = paid = fees = slippage = ZERO
    liquidations = 0
    for state in result.venues.values():
        for entry in state.ledger:
            if entry.kind is LedgerKind.FUNDING:
                if entry.amount > 0:
                    received += entry.amount
                else:
                    paid -= entry.amount
            elif entry.kind is LedgerKind.TRADING_FEE:
                fees -= entry.amount
        market = state.market
        for fill in state.fills:
            if fill.liquidity is Liquidity.LIQUIDATION:
                liquidations += 1
                continue
            if fill.liquidity is Liquidity.MAKER:
                continue  # filled at its own limit when the price reached it
            tick = market.latest([fill.symbol], fill.filled_at).get(fill.symbol)
            if tick is not None:
                slippage += abs(fill.price - tick.mark_price) * fill.qty
    steps = result.steps
    capital = result.capital_usd * len(result.venues)
    end_equity = steps[-1].equity if steps else capital
    net = end_equity - capital
    hours = len(steps)
    used = max((s.margin_used for s in steps), default=ZERO)
    apr = net / used * HOURS_PER_YEAR / hours if used > 0 and hours else ZERO
    peak, drawdown = capital, ZERO
    for step in steps:
        peak = max(peak, step.equity)
        drawdown = max(drawdown, peak - step.equity)
    positions = result.positions
    return Metrics(
        key=result.key,
        hours=hours,
        capital=capital,
        net_pnl=net,
        funding_received=received,
        funding_paid=paid,
        fees=fees,
        slippage=slippage,
        opens=sum(1 for p in positions if p.opened_at is not None),
        closes=sum(1 for p in positions if p.status is PositionStatus.CLOSED),
        switches=result.switches,
        open_at_end=sum(1 for p in positions if p.is_active),
        liquidations=liquidations,
        time_in_market_hours=sum(1 for s in steps if s.open_legs > 0),
        capital_used=used,
        apr_on_capital=apr,
        max_drawdown=drawdown,
        worst_unhedged_usd=max((s.unhedged_usd for s in steps), default=ZERO),
        failed_cycles=result.failed_cycles,
        first_failure=result.first_failure,
        pairs=_pairs(result),
        grid=_grid(result) if result.config.type == "grid" else None,
    )


def _grid(result: RunResult) -> GridFigures:
    fills = [f for state in result.venues.values() for f in state.fills]
    realized = sum(
        (
            e.amount
            for state in result.venues.values()
            for e in state.ledger
            if e.kind is LedgerKind.REALIZED_PNL
        ),
        ZERO,
    )
    return GridFigures(
        buys=sum(1 for f in fills if f.side is OrderSide.BUY),
        sells=sum(1 for f in fills if f.side is OrderSide.SELL),
        maker_fills=sum(1 for f in fills if f.liquidity is Liquidity.MAKER),
        volume_usd=sum((f.price * f.qty for f in fills), ZERO),
        realized_pnl=realized,
        episodes=len(result.positions),
    )


def _pairs(result: RunResult) -> tuple[PairFigures, ...]:
    traded: dict[tuple[str, str, str], list[PositionRecord]] = {}
    for p in result.positions:
        if p.opened_at is not None and p.long_dex and p.short_dex:
            traded.setdefault((p.symbol, p.long_dex, p.short_dex), []).append(p)
    if not traded:
        return ()
    screens = _persistence(result)
    end = result.steps[-1].at if result.steps else result.data.end
    figures = []
    for (symbol, long_venue, short_venue), held in sorted(traded.items()):
        hours = sum(
            ((p.closed_at or end) - p.opened_at).total_seconds() / 3600
            for p in held
            if p.opened_at is not None
        )
        figures.append(
            PairFigures(
                symbol,
                long_venue,
                short_venue,
                len(held),
                round(hours, 1),
                sum((p.funding_usd for p in held), ZERO),
                sum((p.fees_usd for p in held), ZERO),
                sum((_contribution(p) for p in held), ZERO),
                screens.get((symbol, long_venue, short_venue)),
            )
        )
    figures.sort(key=lambda f: f.contribution, reverse=True)
    return tuple(figures)


def _contribution(position: PositionRecord) -> Decimal:
    if position.is_active:
        return position.funding_usd - position.fees_usd + position.unrealized_pnl_usd
    return position.realized_pnl_usd


def _persistence(result: RunResult) -> dict[tuple[str, str, str], PairScreen]:
    """The pre-screen over the run's window at the entry threshold (no fees on top)."""
    config = result.config
    entry = getattr(config, "entry", None)
    horizon = getattr(config, "horizon_hours", Decimal(168))
    min_apr = float(entry.min_apr) * 100 if entry is not None else 0.0
    data = result.data
    batch = select(data.batch, data.start, data.end, None, None)
    params = ScreenParams(fees_bps=0.0, horizon_days=float(horizon) / 24, min_apr_pct=min_apr)
    return {(s.symbol, s.long.venue, s.short.venue): s for s in screen(batch, params)}

"""One simulation core, two stores: a scenario through the PostgreSQL paper venue and through
the in-memory venue gives the same ledgers, positions, orders, fills and funding.

The scenario (ten hours, two venues): sub-accounts `arb` and `grid` on Hyperliquid (funding
every hour) and `arb` on Paradex (every 8 hours, with injected timeouts after fills that
are resolved by looking the order up and resending the same client id). Market orders on
both sides, a marketable limit, a refused reduce-only and an order beyond the margin, a
resting limit that fills on a tick as maker, a reduce-only take-profit that rests and fills,
a cancelled limit, a position liquidated at its modelled price, and funding on both venues.
Every call's outcome, and every row the two stores hold afterwards, must be Decimal-equal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from core.clock import ManualClock
from core.enums import OrderSide, OrderType
from db.models.paper import (
    PaperAccount,
    PaperFill,
    PaperFundingSettlement,
    PaperLedgerEntry,
    PaperOrder,
    PaperPosition,
)
from exchanges.base import ExchangeError, OrderRequest, UnknownOutcomeError
from exchanges.memory import InMemoryVenue, InMemoryVenueState
from exchanges.paper import FaultConfig, PaperExchange, PaperVenueConfig
from exchanges.scenarios import store_ticks
from exchanges.simulation.market import Tick
from exchanges.simulation.series import SeriesMarket

from .conftest import START

D = Decimal
BUY, SELL = OrderSide.BUY, OrderSide.SELL
HOURS = 10
ACCOUNTS = [("hyperliquid", "arb"), ("hyperliquid", "grid"), ("paradex", "arb")]
CONFIGS = {
    ("hyperliquid", "arb"): PaperVenueConfig(),
    ("hyperliquid", "grid"): PaperVenueConfig(leverage=D(15)),
    ("paradex", "arb"): PaperVenueConfig(
        leverage=D(3), faults=FaultConfig(seed=4, timeout_after_fill_rate=0.5)
    ),
}
DEPOSITS = {
    ("hyperliquid", "arb"): 10_000,
    ("hyperliquid", "grid"): 3_000,
    ("paradex", "arb"): 8_000,
}


def _series(venue: str, symbol: str, marks: list[str], rates: list[str], interval: int):
    step = timedelta(minutes=30)
    return [
        Tick(venue, symbol, START + step * i, D(m), D(r), D(interval))
        for i, (m, r) in enumerate(zip(marks, rates, strict=True))
    ]


def scenario() -> list[Tick]:
    """Half-hourly ticks, 00:00 .. 10:00 (21 per market)."""
    n = 2 * HOURS + 1
    eth = [str(3000 + 7 * ((i * 5) % 9) - 20 * (i > 12)) for i in range(n)]
    btc = ["60000", "59950", "59900", "59700", "59400", "59600", "59800"] + ["60600"] * (n - 7)
    sol = ["150"] * 6 + ["141"] * (n - 6)  # falls 6 % at 03:00: past a 15x long's liquidation
    hourly = [str(D("0.0000125") + D("0.0000031") * ((i * 3) % 7 - 3)) for i in range(n)]
    eight = [str(D(r) * 8) for r in hourly]
    return (
        _series("hyperliquid", "ETH", eth, hourly, 1)
        + _series("hyperliquid", "BTC", btc, hourly, 1)
        + _series("hyperliquid", "SOL", sol, ["0.00002"] * n, 1)
        + _series("paradex", "ETH", [str(D(m) + 3) for m in eth], eight, 8)
    )


def market(cid, side, qty, symbol="ETH", reduce_only=False):
    return OrderRequest(cid, symbol, side, OrderType.MARKET, D(qty), reduce_only=reduce_only)


def limit(cid, side, qty, price, symbol="ETH", reduce_only=False):
    return OrderRequest(cid, symbol, side, OrderType.LIMIT, D(qty), D(price), reduce_only)


# (minutes after START, account, operation, argument)
SCRIPT = [
    (5, ("hyperliquid", "arb"), "place", market("hl-long", BUY, "2")),
    (5, ("paradex", "arb"), "place", market("px-short", SELL, "2")),
    (10, ("hyperliquid", "grid"), "place", limit("grid-bid", BUY, "0.05", "59500", "BTC")),
    (10, ("hyperliquid", "grid"), "place", market("grid-ro", SELL, "0.1", "BTC", True)),
    (20, ("hyperliquid", "grid"), "place", market("grid-sol", BUY, "20", "SOL")),
    (25, ("hyperliquid", "arb"), "place", limit("hl-take", SELL, "0.5", "2900")),
    (30, ("hyperliquid", "grid"), "place", market("grid-huge", BUY, "5", "BTC")),
    (90, ("hyperliquid", "arb"), "place", market("hl-reduce", SELL, "1")),
    (95, ("paradex", "arb"), "place", market("px-add", SELL, "1")),
    (150, ("hyperliquid", "grid"), "place", limit("grid-tp", SELL, "0.05", "60500", "BTC", True)),
    (240, ("paradex", "arb"), "place", limit("px-bid", BUY, "1", "2500")),
    (250, ("paradex", "arb"), "cancel", "px-bid"),
    (250, ("hyperliquid", "arb"), "cancel", "never-placed"),
    (300, ("paradex", "arb"), "place", market("px-cover", BUY, "1")),
    (420, ("hyperliquid", "arb"), "place", market("hl-flip", SELL, "2")),
    (570, ("paradex", "arb"), "settle", None),
]


def run_script(client: Callable[[tuple[str, str]], object], clock: ManualClock) -> list[object]:
    """Play SCRIPT on one store's venue accounts; every call's outcome, in order."""
    outcomes: list[object] = []
    for minute, key, operation, argument in SCRIPT:
        clock.set(START + timedelta(minutes=minute))
        venue = client(key)
        try:
            if operation == "place":
                try:
                    outcomes.append(venue.place_order(argument))
                except UnknownOutcomeError as lost:
                    outcomes.append(("lost", str(lost)))
                    found = venue.get_order(argument.symbol, argument.client_order_id)
                    outcomes.append(("found", found))
                    outcomes.append(("resent", venue.place_order(argument)))
            elif operation == "cancel":
                outcomes.append(venue.cancel_order("ETH", argument))
            else:
                outcomes.append(venue.settle())
        except ExchangeError as refused:
            outcomes.append((type(refused).__name__, str(refused)))
    clock.set(START + timedelta(hours=HOURS))
    for key in ACCOUNTS:
        venue = client(key)
        outcomes.append((key, "positions", venue.positions()))
        outcomes.append((key, "balance", venue.balance()))
        outcomes.append((key, "open_orders", venue.open_orders()))
        outcomes.append((key, "funding", venue.funding_payments(None, START)))
        for _, _, operation, argument in SCRIPT:
            if operation == "place":
                found = venue.get_order(argument.symbol, argument.client_order_id)
                outcomes.append((key, argument.client_order_id, found))
    return outcomes


def _report(outcome: object) -> object:
    """A venue advance's report without the account ids, which each store numbers its own way."""
    counts = getattr(outcome, "funding_settlements", None)
    if counts is None:
        return outcome
    return (counts, outcome.funding_payments, outcome.limit_fills, outcome.liquidations)


FILL = ("symbol", "side", "qty", "price", "fee", "liquidity", "filled_at")
HOLDING = ("symbol", "qty", "entry_price", "margin", "realized_pnl", "funding_pnl", "updated_at")
SETTLEMENT = ("symbol", "funding_time", "rate", "interval_hours", "mark_price")
SETTLED = ("accounts_paid", "net_amount")


def fields(row: object, names: tuple[str, ...]) -> tuple:
    return tuple(getattr(row, name) for name in names)


def postgres_rows(engine: Engine) -> dict[str, list[tuple]]:
    with Session(engine) as session:
        names = {a.id: (a.venue, a.account) for a in session.scalars(select(PaperAccount))}
        cids = {o.id: o.client_order_id for o in session.scalars(select(PaperOrder))}
        ledger = [
            (names[e.account_id], e.kind, e.amount, e.symbol, e.reference, e.occurred_at)
            for e in session.scalars(select(PaperLedgerEntry))
        ]
        fills = [
            (names[f.account_id], cids.get(f.order_id), *fields(f, FILL))
            for f in session.scalars(select(PaperFill))
        ]
        holdings = [
            (names[p.account_id], *fields(p, HOLDING))
            for p in session.scalars(select(PaperPosition))
        ]
        settlements = [
            (s.venue, *fields(s, SETTLEMENT), *fields(s, SETTLED))
            for s in session.scalars(select(PaperFundingSettlement))
        ]
    return _sorted(ledger=ledger, fills=fills, holdings=holdings, settlements=settlements)


def memory_rows(states: dict[str, InMemoryVenueState]) -> dict[str, list[tuple]]:
    ledger, fills, holdings, settlements = [], [], [], []
    for venue, state in states.items():
        names = {}
        for _, account in ACCOUNTS:
            found = state.find_account(account)
            if found is not None:
                names[found.key] = (venue, account)
        cids = {o.id: o.client_order_id for o in state.orders.values()}
        ledger += [
            (names[e.account], e.kind, e.amount, e.symbol, e.reference, e.occurred_at)
            for e in state.ledger
        ]
        fills += [(names[f.account], cids.get(f.order_id), *fields(f, FILL)) for f in state.fills]
        for key in names:
            for symbol in ("BTC", "ETH", "SOL"):
                holding = state.book.find_holding(key, symbol)
                if holding is not None:
                    holdings.append((names[key], *fields(holding, HOLDING)))
        settlements += [
            (venue, *fields(s, SETTLEMENT), *fields(s, SETTLED)) for s in state.settlements
        ]
        settlements += [(venue, *fields(e, SETTLEMENT), 0, 0) for e in state.unpaid_funding]
    return _sorted(ledger=ledger, fills=fills, holdings=holdings, settlements=settlements)


def _sorted(**tables: list[tuple]) -> dict[str, list[tuple]]:
    """Each table in one order, whatever each store's own order and number formats."""
    return {name: sorted(rows, key=_canonical) for name, rows in tables.items()}


def _canonical(value: object) -> object:
    if isinstance(value, tuple):
        return tuple(_canonical(v) for v in value)
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


@pytest.fixture
def through_postgres(clean_db):
    store_ticks(clean_db, scenario())
    clock = ManualClock(START)
    clients = {
        key: PaperExchange(
            key[0], engine=clean_db, clock=clock, account=key[1], config=CONFIGS[key]
        )
        for key in ACCOUNTS
    }
    for key, amount in DEPOSITS.items():
        clients[key].credit_deposit(f"seed-{key[1]}", "USDC", D(amount), "arbitrum")
    return run_script(clients.__getitem__, clock), postgres_rows(clean_db)


@pytest.fixture
def in_memory():
    ticks = scenario()
    states = {
        venue: InMemoryVenueState(
            venue, SeriesMarket.from_ticks(venue, [t for t in ticks if t.venue == venue])
        )
        for venue in ("hyperliquid", "paradex")
    }
    clock = ManualClock(START)
    clients = {
        key: InMemoryVenue(states[key[0]], clock=clock, account=key[1], config=CONFIGS[key])
        for key in ACCOUNTS
    }
    for key, amount in DEPOSITS.items():
        clients[key].credit_deposit(f"seed-{key[1]}", "USDC", D(amount), "arbitrum")
    return run_script(clients.__getitem__, clock), memory_rows(states)


def test_both_stores_give_identical_outcomes_and_rows(through_postgres, in_memory):
    pg_outcomes, pg_rows = through_postgres
    mem_outcomes, mem_rows = in_memory
    assert len(pg_outcomes) == len(mem_outcomes)
    for index, (pg, mem) in enumerate(zip(pg_outcomes, mem_outcomes, strict=True)):
        assert _report(pg) == _report(mem), f"outcome {index} differs"
    for table in ("ledger", "fills", "holdings", "settlements"):
        assert pg_rows[table] == mem_rows[table], f"{table} differ"


def test_the_scenario_exercises_what_it_claims(in_memory):
    outcomes, rows = in_memory
    kinds = {row[1] for row in rows["ledger"]}
    assert {"funding", "trading_fee", "realized_pnl", "liquidation_fee", "deposit"} <= kinds
    liquidity = {row[7] for row in rows["fills"]}
    assert liquidity == {"maker", "taker", "liquidation"}
    maker = {row[1] for row in rows["fills"] if row[7] == "maker"}
    assert maker == {"grid-bid", "grid-tp"}  # the resting bid and the take-profit
    funded = {(row[0], row[2].hour) for row in rows["settlements"] if row[6]}
    assert (("paradex", 8) in funded) and (("hyperliquid", 1) in funded)
    refusals = [o for o in outcomes if isinstance(o, tuple) and o[0] == "OrderRejectedError"]
    reasons = " ".join(r[1] for r in refusals)
    assert "does not reduce" in reasons and "insufficient margin" in reasons
    assert "no ETH order with client id never-placed" in reasons
    assert any(isinstance(o, tuple) and o[0] == "lost" for o in outcomes)

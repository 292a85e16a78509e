"""The simulated venue's state as plain values, and the journal of what one step added.

`VenueBook` holds the part of a venue's state a step works on — accounts, net positions
(`Holding`), open orders — indexed the way the core reads it. The in-memory venue keeps one
book for its whole life; the PostgreSQL venue builds one per transaction from the rows it
locked. The core changes these objects in place and writes every new fact (fill, ledger row,
funding settlement, new order or position) to the book's `Journal`, which the store then
persists: PostgreSQL as rows, the in-memory venue as its history.
"""

from __future__ import annotations

import uuid
from bisect import insort
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from core.enums import LedgerKind, Liquidity, OrderSide, OrderStatus, OrderType
from exchanges.base import FundingPayment
from exchanges.simulation.margin import ZERO, PositionState, money
from exchanges.simulation.market import FundingEvent

OPEN_ORDER_STATUSES = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)
_ORDER_IDS = uuid.UUID("0b5e7c1a-2f44-4f5e-9a57-3c1d0e8b6a21")


def order_id_for(venue: str, client_order_id: str) -> uuid.UUID:
    """The venue's id of an order: fixed by (venue, client order id), unique on a venue."""
    return uuid.uuid5(_ORDER_IDS, f"{venue}|{client_order_id}")


@dataclass(slots=True, eq=False)
class AccountState:
    """A (sub-)account: its USDC collateral. `key` is the store's id for it."""

    key: int
    name: str
    collateral: Decimal


@dataclass(slots=True, eq=False)
class Holding:
    """The net position of one account in one symbol, with isolated margin."""

    account: int
    symbol: str
    updated_at: datetime
    qty: Decimal = ZERO  # signed: > 0 long, < 0 short
    entry_price: Decimal = ZERO
    margin: Decimal = ZERO
    realized_pnl: Decimal = ZERO  # lifetime, excluding fees and funding
    funding_pnl: Decimal = ZERO  # lifetime funding received (+) / paid (-)

    @property
    def state(self) -> PositionState:
        return PositionState(self.qty, self.entry_price, self.margin)


@dataclass(slots=True, eq=False)
class OrderState:
    id: uuid.UUID
    account: int
    client_order_id: str
    symbol: str
    side: OrderSide
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None
    reduce_only: bool
    post_only: bool
    status: OrderStatus
    leverage: Decimal  # the account's terms when placed: a resting order fills with them
    maker_fee_rate: Decimal
    placed_at: datetime
    updated_at: datetime
    filled_qty: Decimal = ZERO
    avg_fill_price: Decimal | None = None
    fee: Decimal = ZERO
    reserved_margin: Decimal = ZERO  # held back while a limit order rests
    detail: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ORDER_STATUSES

    @property
    def sort_key(self) -> tuple[datetime, str]:
        """Resting orders are matched in this order (time, then client id: never random)."""
        return (self.placed_at, self.client_order_id)


@dataclass(frozen=True, slots=True)
class Fill:
    account: int
    order_id: uuid.UUID | None  # None for a liquidation
    symbol: str
    side: OrderSide
    qty: Decimal
    price: Decimal
    fee: Decimal
    liquidity: Liquidity
    filled_at: datetime


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One change of one account's collateral, with its reason and what caused it."""

    account: int
    kind: LedgerKind
    amount: Decimal  # signed: credited (+) or debited (-)
    symbol: str | None
    reference: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class Settlement:
    """A funding time settled on a venue market (once, ever) and what it paid in total."""

    symbol: str
    funding_time: datetime
    rate: Decimal
    interval_hours: Decimal
    mark_price: Decimal
    accounts_paid: int
    net_amount: Decimal


@dataclass(frozen=True, slots=True)
class FundingPaid:
    """One account's share of a settlement."""

    account: int
    payment: FundingPayment


@dataclass(slots=True)
class Journal:
    """New facts of one step, in the order they happened."""

    fills: list[Fill] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)
    settlements: list[Settlement] = field(default_factory=list)  # that paid someone
    unpaid: list[FundingEvent] = field(default_factory=list)  # settled with nobody to pay
    payments: list[FundingPaid] = field(default_factory=list)
    new_orders: list[OrderState] = field(default_factory=list)
    new_holdings: list[Holding] = field(default_factory=list)

    def clear(self) -> None:
        for records in (
            self.fills,
            self.ledger,
            self.settlements,
            self.unpaid,
            self.payments,
            self.new_orders,
            self.new_holdings,
        ):
            records.clear()


@dataclass
class VenueAdvance:
    """What advancing a venue from `start` to `until` did."""

    venue: str
    start: datetime
    until: datetime
    funding_settlements: int = 0
    funding_payments: int = 0
    limit_fills: int = 0
    liquidations: int = 0
    withdrawals_finished: int = 0
    touched_accounts: set[int] = field(default_factory=set)
    # Symbols with a resting order or an open position when the advance began.
    active_symbols: list[str] = field(default_factory=list)


class VenueBook:
    """Accounts, holdings and open orders of one venue (all of it, or what a step loaded)."""

    def __init__(self, venue: str) -> None:
        self.venue = venue
        self.accounts: dict[int, AccountState] = {}
        self.journal = Journal()
        self._holdings: dict[tuple[int, str], Holding] = {}
        self._by_symbol: dict[str, dict[int, Holding]] = {}
        self._by_account: dict[int, dict[str, Holding]] = {}
        self._open: dict[str, list[OrderState]] = {}

    # ---------------------------------------------------------------- loading (not journaled)

    def add_account(self, account: AccountState) -> AccountState:
        self.accounts[account.key] = account
        return account

    def add_holding(self, holding: Holding) -> Holding:
        self._holdings[(holding.account, holding.symbol)] = holding
        self._by_symbol.setdefault(holding.symbol, {})[holding.account] = holding
        self._by_account.setdefault(holding.account, {})[holding.symbol] = holding
        return holding

    def add_order(self, order: OrderState) -> OrderState:
        """Index an order that is resting (orders that are not open need no index)."""
        if order.is_open:
            insort(self._open.setdefault(order.symbol, []), order, key=_order_key)
        return order

    # ---------------------------------------------------------------- reads

    def find_holding(self, account: int, symbol: str) -> Holding | None:
        return self._holdings.get((account, symbol))

    def holdings_of(self, account: int) -> list[Holding]:
        """The account's open positions, by symbol."""
        held = self._by_account.get(account, {})
        return [held[s] for s in sorted(held) if held[s].qty != 0]

    def held_in(self, symbol: str) -> list[Holding]:
        """Open positions of every account in `symbol`."""
        held = self._by_symbol.get(symbol)
        return [h for h in held.values() if h.qty != 0] if held else []

    def resting(self, symbol: str) -> list[OrderState]:
        """Open orders in `symbol`, in matching order."""
        return self._open.get(symbol, [])

    def open_orders_of(self, account: int, symbol: str | None = None) -> list[OrderState]:
        symbols = [symbol] if symbol is not None else list(self._open)
        found = [o for s in symbols for o in self._open.get(s, ()) if o.account == account]
        return sorted(found, key=_order_key)

    def active_symbols(self) -> list[str]:
        """Symbols with a resting order or an open position: where ticks change anything."""
        active = {s for s, orders in self._open.items() if orders}
        active.update(h.symbol for h in self._holdings.values() if h.qty)
        return sorted(active)

    def committed(self, account: int) -> tuple[Decimal, Decimal]:
        """(margin held by the account's positions, margin reserved by its resting orders)."""
        held = sum((h.margin for h in self._by_account.get(account, {}).values()), ZERO)
        reserved = sum((o.reserved_margin for o in self.open_orders_of(account)), ZERO)
        return held, reserved

    # ---------------------------------------------------------------- changes (journaled)

    def holding(self, account: int, symbol: str, at: datetime) -> Holding:
        """The account's holding in `symbol`, created flat on first use."""
        existing = self._holdings.get((account, symbol))
        if existing is not None:
            return existing
        created = self.add_holding(Holding(account, symbol, updated_at=at))
        self.journal.new_holdings.append(created)
        return created

    def place(self, order: OrderState) -> None:
        self.add_order(order)
        self.journal.new_orders.append(order)

    def unlist(self, order: OrderState) -> None:
        """Take an order that stopped resting (filled, cancelled) out of the open index."""
        orders = self._open.get(order.symbol)
        if orders is not None and order in orders:
            orders.remove(order)

    def post(
        self,
        account: AccountState,
        kind: LedgerKind,
        amount: Decimal,
        reference: str,
        at: datetime,
        symbol: str | None = None,
    ) -> None:
        """Book one change of collateral with its reason (zero amounts are not booked)."""
        amount = money(amount)
        if amount == 0:
            return
        self.journal.ledger.append(LedgerEntry(account.key, kind, amount, symbol, reference, at))
        account.collateral = money(account.collateral + amount)


def _order_key(order: OrderState) -> tuple[datetime, str]:
    return order.sort_key

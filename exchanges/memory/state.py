"""One in-memory venue's state and history, shared by its accounts (`InMemoryVenue`s).

The book (accounts, holdings, resting orders) lives for the venue's whole life; after every
step the core's journal is moved into the history: fills, ledger rows, settlements, and
each account's funding payments (kept in time order, so a read from a time on is a binary
search, not a scan of the history).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime

from exchanges.base import FundingPayment, MovementReceipt
from exchanges.simulation.margin import ZERO
from exchanges.simulation.market import FundingEvent, MarketSource
from exchanges.simulation.replay import advance
from exchanges.simulation.state import (
    AccountState,
    Fill,
    LedgerEntry,
    OrderState,
    Settlement,
    VenueAdvance,
    VenueBook,
)


@dataclass(slots=True)
class _Payments:
    """Funding payments of one account (or of one account in one symbol), oldest first."""

    times: list[datetime] = field(default_factory=list)
    payments: list[FundingPayment] = field(default_factory=list)

    def add(self, payment: FundingPayment) -> None:
        self.times.append(payment.funding_time)
        self.payments.append(payment)

    def after(self, since: datetime) -> list[FundingPayment]:
        return self.payments[bisect_right(self.times, since) :]


class InMemoryVenueState:
    """Everything one simulated venue knows, in Python objects."""

    def __init__(self, venue: str, market: MarketSource) -> None:
        self.venue = venue
        self.market = market
        self.book = VenueBook(venue)
        self.processed_through: datetime | None = None
        self.orders: dict[str, OrderState] = {}  # by client order id, every order ever
        self.fills: list[Fill] = []
        self.ledger: list[LedgerEntry] = []
        self.settlements: list[Settlement] = []  # funding times that paid someone
        self.unpaid_funding: list[FundingEvent] = []  # settled with no position to pay
        self.deposits: dict[str, tuple[int, MovementReceipt]] = {}
        self._accounts: dict[str, AccountState] = {}
        self._payments: dict[int, _Payments] = {}
        self._symbol_payments: dict[tuple[int, str], _Payments] = {}
        # Bumped by every change to the book (a step, an order, a cancel, a deposit): reads
        # made at one version and one time (positions, balances) can be kept until it moves.
        self.version = 0

    def __repr__(self) -> str:
        return f"InMemoryVenueState({self.venue!r})"

    def find_account(self, name: str) -> AccountState | None:
        return self._accounts.get(name)

    def account(self, name: str) -> AccountState:
        """The account `name`, opened empty on first use."""
        account = self._accounts.get(name)
        if account is None:
            account = self.book.add_account(AccountState(len(self._accounts) + 1, name, ZERO))
            self._accounts[name] = account
        return account

    def advance(self, now: datetime) -> VenueAdvance:
        """Bring the venue up to `now`; its time never goes back. Created at its first `now`."""
        start = self.processed_through
        if start is None:
            self.processed_through = now
            return VenueAdvance(self.venue, now, now)
        if now <= start:
            return VenueAdvance(self.venue, start, start)
        report = VenueAdvance(self.venue, start, now)
        active = self.book.active_symbols()
        advance(self.book, self.market.window(active, start, now), active, self.market.spec, report)
        self.commit()
        self.processed_through = now
        return report

    def commit(self) -> None:
        """Move the journal of the step just done into the history."""
        self.version += 1
        journal = self.book.journal
        for order in journal.new_orders:
            self.orders[order.client_order_id] = order
        self.fills += journal.fills
        self.ledger += journal.ledger
        self.settlements += journal.settlements
        self.unpaid_funding += journal.unpaid
        for paid in journal.payments:
            self._payments.setdefault(paid.account, _Payments()).add(paid.payment)
            key = (paid.account, paid.payment.symbol)
            self._symbol_payments.setdefault(key, _Payments()).add(paid.payment)
        journal.clear()

    def payments(self, account: int, symbol: str | None, since: datetime) -> list[FundingPayment]:
        found = (
            self._payments.get(account)
            if symbol is None
            else self._symbol_payments.get((account, symbol))
        )
        return found.after(since) if found is not None else []

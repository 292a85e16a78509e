"""`InMemoryVenue`: the paper venue's model with its state in Python objects (backtests).

The same simulation core as the PostgreSQL paper venue (`exchanges/simulation/`) decides
every fill, fee, margin check, liquidation and funding payment; this store keeps the result
in an `InMemoryVenueState` that the venue's accounts share, like sub-accounts of one venue.
Market data comes from the injected `MarketSource` (a `SeriesMarket` for backtests), time
from the injected `Clock` (a `ManualClock` moves a backtest on at once). Each call first
advances the venue to the clock's now, as the PostgreSQL venue does.

Withdrawals and deposit addresses are refused (`CapabilityNotSupportedError`): no chain or
bridge is simulated here. `credit_deposit` funds an account. One process, one thread: the
state is not locked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from core.clock import Clock, ensure_utc
from core.enums import LedgerKind, MovementState
from core.market import FundingRate, Instrument, TopOfBook
from exchanges.base import (
    Balance,
    Capability,
    CapabilityNotSupportedError,
    FundingPayment,
    MovementReceipt,
    OrderRejectedError,
    OrderRequest,
    Position,
    TransientExchangeError,
    UnknownOutcomeError,
    VenueOrder,
)
from exchanges.memory.state import InMemoryVenueState
from exchanges.simulation import views
from exchanges.simulation.config import PaperVenueConfig
from exchanges.simulation.margin import ZERO, unrealized_pnl
from exchanges.simulation.market import Tick
from exchanges.simulation.orders import Terms, accept_order, cancel_order, validate
from exchanges.simulation.state import AccountState, VenueAdvance
from exchanges.venues import venue_profile

CAPABILITIES = frozenset(Capability) - {
    Capability.WITHDRAW,
    Capability.DEPOSIT_ADDRESS,
    Capability.TRANSFER_STATUS,
}
_NO_TRANSFERS = "the in-memory venue simulates no chain or bridge: {} is not available"


class InMemoryVenue:
    """One account on an in-memory venue: `InMemoryVenue(state, clock=clock, account="arb")`."""

    def __init__(
        self,
        state: InMemoryVenueState,
        *,
        clock: Clock,
        account: str = "main",
        config: PaperVenueConfig | None = None,
    ) -> None:
        self.profile = venue_profile(state.venue)
        self.name = state.venue
        self.account = account
        self.config = config or PaperVenueConfig()
        self.state = state
        self._clock = clock
        self._terms = Terms.of(self.config, self.profile)
        self._books: dict[str, tuple[Tick, TopOfBook]] = {}
        # The last positions and balance read, with the (state version, venue time) they
        # were read at: one step reads them many times over an unchanged book.
        self._read_positions: tuple[tuple[int, datetime], tuple[Position, ...]] | None = None
        self._read_balance: tuple[tuple[int, datetime], Balance] | None = None

    def __repr__(self) -> str:
        return f"InMemoryVenue({self.name!r}, account={self.account!r})"

    # ---------------------------------------------------------------- plumbing

    def _advance(self) -> datetime:
        """Advance the venue to the clock's now; returns the venue's now."""
        now = ensure_utc(self._clock.now())
        through = self.state.processed_through
        if through is not None and now <= through:
            return through  # nothing happened since: the common case within one step
        return self.state.advance(now).until

    def _pause(self, key: str, operation: str) -> None:
        delay = self.config.faults.latency_seconds(self.name, key, operation)
        if delay > 0:
            self._clock.sleep(delay)

    def _tick(self, symbol: str, at: datetime) -> Tick:
        tick = self.state.market.latest([symbol], at).get(symbol)
        if tick is None:
            raise TransientExchangeError(
                self.name, f"no market data for {symbol} at {at.isoformat()}"
            )
        return tick

    def _own(self) -> AccountState | None:
        return self.state.find_account(self.account)

    # ---------------------------------------------------------------- market data

    def capabilities(self) -> frozenset[Capability]:
        return CAPABILITIES

    def instruments(self) -> Sequence[Instrument]:
        market = self.state.market
        return [
            views.instrument_view(self.name, s, market.spec(s), self._terms)
            for s in market.symbols()
        ]

    def funding_rates(self, symbols: Sequence[str] | None = None) -> Sequence[FundingRate]:
        now = ensure_utc(self._clock.now())
        market = self.state.market
        wanted = list(symbols) if symbols is not None else list(market.symbols())
        ticks = market.latest(wanted, now)
        return views.funding_rate_views(self.name, [ticks[s] for s in wanted if s in ticks], now)

    def top_of_book(self, symbol: str) -> TopOfBook:
        market = self.state.market
        real = market.book(symbol)
        if real is not None:
            return real
        tick = self._tick(symbol, ensure_utc(self._clock.now()))
        cached = self._books.get(symbol)
        if cached is not None and cached[0] is tick:
            return cached[1]  # the book of the tick in force, worked out once
        book = views.modelled_book(
            self.name,
            tick,
            market.spec(symbol),
            self.config.slippage_bps,
            self.config.book_depth_usd,
        )
        self._books[symbol] = (tick, book)
        return book

    # ---------------------------------------------------------------- orders

    def place_order(self, request: OrderRequest) -> VenueOrder:
        """Place an order; the same client order id again returns the first order (faults
        as on the PostgreSQL venue: a reject stores nothing, a timeout comes after the fill)."""
        key = request.client_order_id
        faults = self.config.faults
        self._pause(key, "place_order")
        now = self._advance()
        state = self.state
        account = state.account(self.account)
        existing = state.orders.get(key)
        if existing is not None:
            if existing.account != account.key:
                raise OrderRejectedError(
                    self.name, f"client order id {key} belongs to another account"
                )
            return views.order_view(self.name, existing)
        if faults.decides(faults.reject_rate, self.name, key, "reject"):
            raise OrderRejectedError(self.name, f"order {key}: rejected (injected fault)")
        spec = state.market.spec(request.symbol)
        validate(self.name, request, spec)
        order = accept_order(
            state.book,
            account,
            request,
            mark=self._tick(request.symbol, now).mark_price,
            touch=state.market.book(request.symbol),
            spec=spec,
            terms=self._terms,
            committed=state.book.committed(account.key),
            now=now,
        )
        state.commit()
        result = views.order_view(self.name, order)
        if faults.decides(faults.timeout_after_fill_rate, self.name, key, "timeout"):
            raise UnknownOutcomeError(
                self.name, f"order {key}: timed out waiting for the venue (injected fault)"
            )
        return result

    def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrder:
        self._pause(client_order_id, "cancel_order")
        now = self._advance()
        account = self.state.account(self.account)
        order = self.state.orders.get(client_order_id)
        if order is None or order.account != account.key or order.symbol != symbol:
            raise OrderRejectedError(
                self.name, f"cancel: no {symbol} order with client id {client_order_id}"
            )
        cancel_order(self.state.book, order, now, "cancelled by client")
        self.state.commit()
        return views.order_view(self.name, order)

    def get_order(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        self._advance()
        account = self._own()
        order = self.state.orders.get(client_order_id)
        if order is None or account is None or order.account != account.key:
            return None
        return views.order_view(self.name, order) if order.symbol == symbol else None

    def open_orders(self, symbol: str | None = None) -> Sequence[VenueOrder]:
        self._advance()
        account = self._own()
        if account is None:
            return []
        resting = self.state.book.open_orders_of(account.key, symbol)
        return [views.order_view(self.name, o) for o in resting]

    # ---------------------------------------------------------------- account

    def positions(self) -> Sequence[Position]:
        now = self._advance()
        key = (self.state.version, now)
        if self._read_positions is not None and self._read_positions[0] == key:
            return list(self._read_positions[1])
        account = self._own()
        found = tuple(self._open_positions(account.key, now)) if account is not None else ()
        self._read_positions = (key, found)
        return list(found)

    def _open_positions(self, account: int, now: datetime) -> list[Position]:
        market = self.state.market
        held = self.state.book.holdings_of(account)
        marks = market.latest([h.symbol for h in held], now)
        return [
            views.position_view(self.name, h, marks[h.symbol].mark_price, market.spec(h.symbol))
            for h in held
        ]

    def funding_payments(self, symbol: str | None, since: datetime) -> Sequence[FundingPayment]:
        """Funding settled on this account for `symbol` (None: all) after `since`."""
        self._advance()
        account = self._own()
        if account is None:
            return []
        return self.state.payments(account.key, symbol, ensure_utc(since))

    def balance(self) -> Balance:
        """Equity is collateral plus unrealized PnL; available excludes all margin in use."""
        now = self._advance()
        key = (self.state.version, now)
        if self._read_balance is not None and self._read_balance[0] == key:
            return self._read_balance[1]
        account = self._own()
        if account is None:
            return views.balance_view(self.name, ZERO, (ZERO, ZERO), ZERO)
        held = self.state.book.holdings_of(account.key)
        marks = self.state.market.latest([h.symbol for h in held], now)
        upnl = sum((unrealized_pnl(h.state, marks[h.symbol].mark_price) for h in held), ZERO)
        committed = self.state.book.committed(account.key)
        balance = views.balance_view(self.name, account.collateral, committed, upnl)
        self._read_balance = (key, balance)
        return balance

    # ---------------------------------------------------------------- transfers

    def credit_deposit(
        self, reference: str, asset: str, amount: Decimal, chain: str
    ) -> MovementReceipt:
        """Credit USDC to this account, once per `reference` (how a backtest funds it)."""
        now = self._advance()
        account = self.state.account(self.account)
        known = self.state.deposits.get(reference)
        if known is not None:
            if known[0] != account.key or known[1].amount != amount:
                raise OrderRejectedError(
                    self.name, f"deposit {reference!r} already exists with other terms"
                )
            return known[1]
        if asset != views.COLLATERAL:
            raise OrderRejectedError(
                self.name, f"in-memory venues hold {views.COLLATERAL} only, not {asset!r}"
            )
        if amount <= 0:
            raise OrderRejectedError(self.name, f"deposit {reference}: amount must be positive")
        self.state.book.post(account, LedgerKind.DEPOSIT, amount, reference, now)
        self.state.commit()
        receipt = MovementReceipt(
            party=self.name,
            reference=reference,
            asset=asset,
            amount=amount,
            state=MovementState.COMPLETED,
            chain=chain,
            tx_hash=reference,
        )
        self.state.deposits[reference] = (account.key, receipt)
        return receipt

    def withdraw(
        self, asset: str, amount: Decimal, address: str, chain: str, idempotency_key: str
    ) -> MovementReceipt:
        raise CapabilityNotSupportedError(self.name, _NO_TRANSFERS.format("withdraw"))

    def get_withdrawal(self, idempotency_key: str) -> MovementReceipt | None:
        raise CapabilityNotSupportedError(self.name, _NO_TRANSFERS.format("get_withdrawal"))

    def deposit_address(self, asset: str, chain: str) -> str:
        raise CapabilityNotSupportedError(self.name, _NO_TRANSFERS.format("deposit_address"))

    def get_deposit(self, reference: str) -> MovementReceipt | None:
        raise CapabilityNotSupportedError(self.name, _NO_TRANSFERS.format("get_deposit"))

    # ---------------------------------------------------------------- simulation

    def settle(self, now: datetime | None = None) -> VenueAdvance:
        """Advance the whole venue to `now` (default: the clock's now)."""
        target = ensure_utc(now) if now is not None else ensure_utc(self._clock.now())
        return self.state.advance(target)

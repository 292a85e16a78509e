"""`PaperExchange`: the `ExchangeClient` port over a simulated venue kept in PostgreSQL.

Each call is one short transaction that first advances the venue to the clock's now (see
`simulation.py`) under the venue's row lock, then locks the account row if it changes
anything. The simulation core (`exchanges/simulation/`) decides; this class loads the rows
it decides on and persists what it decided (`store.py`). Several processes using the same
venue therefore see one venue, one history.

With `quotes` (dry-run), marks, funding and books come from a real venue: each call that
prices anything first reads it (outside the transaction, at most once per call window) and
appends what it read to `paper_market_ticks`, the venue's tape.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock, ensure_utc
from core.market import FundingRate, Instrument, TopOfBook
from db.models.paper import TransferDirection
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
from exchanges.dry_run import LiveMarket, LiveQuotes
from exchanges.paper import book, funding_history, transfers
from exchanges.paper.book import committed_margin, lock_account
from exchanges.paper.market import ScenarioMarket
from exchanges.paper.simulation import advance_venue
from exchanges.paper.store import RowBook, holding_state, order_state
from exchanges.simulation import views
from exchanges.simulation.config import PaperVenueConfig
from exchanges.simulation.margin import ZERO
from exchanges.simulation.market import MarketSource, Tick
from exchanges.simulation.orders import Terms, accept_order, cancel_order, validate
from exchanges.simulation.state import Holding, VenueAdvance
from exchanges.venues import venue_profile

COLLATERAL = transfers.COLLATERAL_ASSET


@dataclass(frozen=True, slots=True)
class _Call:
    session: Session
    now: datetime  # the venue's now
    market: MarketSource


class PaperExchange:
    """A paper perp venue account: `PaperExchange("hyperliquid", account="main", ...)`.

    Accounts on one venue are like a real venue's sub-accounts: separate collateral and
    positions, one order book and one funding calendar.
    """

    def __init__(
        self,
        venue: str,
        *,
        engine: Engine,
        clock: Clock,
        account: str = "main",
        config: PaperVenueConfig | None = None,
        quotes: LiveQuotes | None = None,
    ) -> None:
        self.profile = venue_profile(venue)
        self.name = venue
        self.account = account
        self.config = config or PaperVenueConfig()
        self.quotes = quotes
        self._clock = clock
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self._terms = Terms.of(self.config, self.profile)

    def __repr__(self) -> str:
        mode = ", dry-run" if self.quotes is not None else ""
        return f"PaperExchange({self.name!r}, account={self.account!r}{mode})"

    # ---------------------------------------------------------------- plumbing

    @contextmanager
    def _transaction(
        self, operation: str, *, mutating: bool, observe: Sequence[str] | None = None
    ) -> Iterator[_Call]:
        """One transaction with the venue advanced to now. `observe`: the symbols this call
        prices (dry-run reads them, and the symbols in play, from the real venue first)."""
        self._reachable(operation)
        observed: list[Tick] = []
        if self.quotes is not None and observe is not None:
            observed = self.quotes.observe(observe)
        try:
            with self._sessions.begin() as session:
                market = self._market(session, observed)
                advance = advance_venue(session, self.name, ensure_utc(self._clock.now()), market)
                yield _Call(session, advance.until, market)
        except DBAPIError as exc:
            reason = f"{operation}: database error ({type(exc.orig).__name__})"
            if mutating and exc.connection_invalidated:
                raise UnknownOutcomeError(self.name, reason) from exc
            raise TransientExchangeError(self.name, reason) from exc

    def _market(self, session: Session, observed: Sequence[Tick]) -> MarketSource:
        """The venue's market in this transaction; dry-run's new observations go on its tape."""
        tape = ScenarioMarket(session, self.name)
        if self.quotes is None:
            return tape
        tape.record(observed)
        return LiveMarket(tape, self.quotes)

    @contextmanager
    def _market_session(self, operation: str) -> Iterator[ScenarioMarket]:
        """Market data reads (no venue lock: ticks are not account state)."""
        self._reachable(operation)
        try:
            with self._sessions() as session:
                yield ScenarioMarket(session, self.name)
        except DBAPIError as exc:
            reason = f"{operation}: database error ({type(exc.orig).__name__})"
            raise TransientExchangeError(self.name, reason) from exc

    def _reachable(self, operation: str) -> None:
        """An injected outage: the call fails before it reaches the venue's state."""
        outage = self.config.faults.outage_at(ensure_utc(self._clock.now()))
        if outage is not None:
            raise TransientExchangeError(
                self.name,
                f"{operation}: venue unreachable (injected outage until {outage.end.isoformat()})",
            )

    def _pause(self, key: str, operation: str) -> None:
        delay = self.config.faults.latency_seconds(self.name, key, operation)
        if delay > 0:
            self._clock.sleep(delay)  # a manual clock just moves on by the injected latency

    def _tick(self, market: MarketSource, symbol: str, at: datetime) -> Tick:
        tick = market.latest([symbol], at).get(symbol)
        if tick is None:
            raise self._no_tick(symbol, at)
        return tick

    def _no_tick(self, symbol: str, at: datetime) -> TransientExchangeError:
        return TransientExchangeError(
            self.name, f"no market data for {symbol} at {at.isoformat()} (no scenario tick yet)"
        )

    # ---------------------------------------------------------------- market data

    def capabilities(self) -> frozenset[Capability]:
        # All of them, WITHDRAWAL_KEY_DEDUPE included: `transfers.request_withdrawal` stores
        # one withdrawal per key and answers a repeat with it.
        return frozenset(Capability)

    def instruments(self) -> Sequence[Instrument]:
        if self.quotes is not None:
            symbols, spec = self.quotes.symbols(), self.quotes.spec
        else:
            with self._market_session("instruments") as market:
                symbols, spec = list(market.symbols()), market.spec
        return [views.instrument_view(self.name, s, spec(s), self._terms) for s in symbols]

    def funding_rates(self, symbols: Sequence[str] | None = None) -> Sequence[FundingRate]:
        now = ensure_utc(self._clock.now())
        if self.quotes is not None:
            wanted = list(symbols) if symbols is not None else self.quotes.symbols()
            return self.quotes.rates(wanted)
        with self._market_session("funding_rates") as market:
            wanted = list(symbols) if symbols is not None else list(market.symbols())
            ticks = market.latest(wanted, now)
        return views.funding_rate_views(self.name, [ticks[s] for s in wanted if s in ticks], now)

    def top_of_book(self, symbol: str) -> TopOfBook:
        if self.quotes is not None:
            return self.quotes.book(symbol)
        now = ensure_utc(self._clock.now())
        with self._market_session("top_of_book") as market:
            tick = self._tick(market, symbol, now)
        return views.modelled_book(
            self.name,
            tick,
            market.spec(symbol),
            self.config.slippage_bps,
            self.config.book_depth_usd,
        )

    # ---------------------------------------------------------------- orders

    def place_order(self, request: OrderRequest) -> VenueOrder:
        """Place an order; the same client order id again returns the first order.

        Injected faults: a reject (nothing stored), or a timeout after the order is stored
        and executed (`UnknownOutcomeError`; `get_order` then finds it). A retried client id
        returns the stored order and never faults again.
        """
        key = request.client_order_id
        faults = self.config.faults
        self._pause(key, "place_order")
        created = False
        with self._transaction("place_order", mutating=True, observe=[request.symbol]) as call:
            session = call.session
            context = book.order_context(
                session, self.name, self.account, key, request.symbol, call.now
            )
            if context.order_id is not None:  # a retry: answer with the first order
                existing = book.order_row(session, self.name, key)
                if existing is None or existing.account_id != context.id:
                    raise OrderRejectedError(
                        self.name, f"client order id {key} belongs to another account"
                    )
                return views.order_view(self.name, order_state(existing))
            if faults.decides(faults.reject_rate, self.name, key, "reject"):
                raise OrderRejectedError(self.name, f"order {key}: rejected (injected fault)")
            spec = call.market.spec(request.symbol)
            validate(self.name, request, spec)
            if isinstance(call.market, ScenarioMarket):  # the tape's mark came with the context
                if context.tick_mark is None:
                    raise self._no_tick(request.symbol, call.now)
                mark = context.tick_mark
            else:
                mark = self._tick(call.market, request.symbol, call.now).mark_price
            touch = call.market.book(request.symbol)
            rows = RowBook(session, self.name)
            account = rows.account_values(context.id, self.account, context.collateral)
            if context.position_id is not None:
                rows.holding_values(
                    context.position_id,
                    Holding(
                        account=context.id,
                        symbol=request.symbol,
                        updated_at=context.updated_at,
                        qty=context.qty,
                        entry_price=context.entry_price,
                        margin=context.margin,
                        realized_pnl=context.realized_pnl,
                        funding_pnl=context.funding_pnl,
                    ),
                )
            order = accept_order(
                rows.book,
                account,
                request,
                mark=mark,
                touch=touch,
                spec=spec,
                terms=self._terms,
                committed=(Decimal(context.held), Decimal(context.reserved)),
                now=call.now,
            )
            rows.persist()
            result = views.order_view(self.name, order)
            created = True
        if self.quotes is not None:
            self.quotes.watch([request.symbol])
        if created and faults.decides(faults.timeout_after_fill_rate, self.name, key, "timeout"):
            raise UnknownOutcomeError(
                self.name, f"order {key}: timed out waiting for the venue (injected fault)"
            )
        return result

    def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrder:
        self._pause(client_order_id, "cancel_order")
        with self._transaction("cancel_order", mutating=True) as call:
            lock_account(call.session, self.name, self.account)
            row = book.own_order(call.session, self.name, self.account, client_order_id)
            if row is None or row.symbol != symbol:
                raise OrderRejectedError(
                    self.name, f"cancel: no {symbol} order with client id {client_order_id}"
                )
            rows = RowBook(call.session, self.name)
            order = cancel_order(rows.book, rows.order(row), call.now, "cancelled by client")
            rows.persist()
            return views.order_view(self.name, order)

    def get_order(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        with self._transaction("get_order", mutating=False) as call:
            row = book.own_order(call.session, self.name, self.account, client_order_id)
            if row is None or row.symbol != symbol:
                return None
            return views.order_view(self.name, order_state(row))

    def open_orders(self, symbol: str | None = None) -> Sequence[VenueOrder]:
        with self._transaction("open_orders", mutating=False) as call:
            rows = book.open_order_rows(call.session, self.name, self.account, symbol)
            return [views.order_view(self.name, order_state(row)) for row in rows]

    # ---------------------------------------------------------------- account

    def positions(self) -> Sequence[Position]:
        with self._transaction("positions", mutating=False, observe=[]) as call:
            account = book.account_row(call.session, self.name, self.account)
            return self._open_positions(call, account.id) if account else []

    def _open_positions(self, call: _Call, account_id: int) -> list[Position]:
        rows = book.open_position_rows(call.session, account_id)
        marks = call.market.latest([r.symbol for r in rows], call.now)
        return [
            views.position_view(
                self.name,
                holding_state(row),
                marks[row.symbol].mark_price,
                call.market.spec(row.symbol),
            )
            for row in rows
        ]

    def funding_payments(self, symbol: str | None, since: datetime) -> Sequence[FundingPayment]:
        """Funding settled on this account for `symbol` (None: all) after `since`."""
        with self._transaction("funding_payments", mutating=False) as call:
            return funding_history.funding_payments(
                call.session, self.name, self.account, symbol, ensure_utc(since)
            )

    def balance(self) -> Balance:
        """Equity is collateral plus unrealized PnL; available excludes all margin in use."""
        with self._transaction("balance", mutating=False, observe=[]) as call:
            account = book.account_row(call.session, self.name, self.account)
            if account is None:
                return views.balance_view(self.name, ZERO, (ZERO, ZERO), ZERO)
            positions = self._open_positions(call, account.id)
            committed = committed_margin(call.session, account.id)
            upnl = sum((p.unrealized_pnl for p in positions), ZERO)
            return views.balance_view(self.name, account.collateral, committed, upnl)

    # ---------------------------------------------------------------- transfers

    def withdraw(
        self, asset: str, amount: Decimal, address: str, chain: str, idempotency_key: str
    ) -> MovementReceipt:
        """Withdraw; the same key again returns the first withdrawal, never a second.

        Injected faults: the withdrawal fails when it would complete (refunded), or the
        response is dropped after it was accepted (`UnknownOutcomeError`).
        """
        faults = self.config.faults
        key = idempotency_key
        self._pause(key, "withdraw")
        fails = faults.decides(faults.withdrawal_failure_rate, self.name, key, "withdraw_fail")
        with self._transaction("withdraw", mutating=True) as call:
            account = lock_account(call.session, self.name, self.account)
            transfer, created = transfers.request_withdrawal(
                call.session,
                account,
                asset=asset,
                amount=amount,
                address=address,
                chain=chain,
                key=key,
                fee=self.config.withdrawal_fee_for(self.profile),
                delay=timedelta(seconds=self.config.withdrawal_delay_s),
                fail_reason="withdrawal failed on the venue (injected fault)" if fails else None,
                now=call.now,
            )
            result = transfers.receipt(transfer)
        if created and faults.decides(
            faults.drop_withdrawal_response_rate, self.name, key, "withdraw_drop"
        ):
            raise UnknownOutcomeError(
                self.name, f"withdrawal {key}: response lost (injected fault); look it up"
            )
        return result

    def get_withdrawal(self, idempotency_key: str) -> MovementReceipt | None:
        return self._transfer(TransferDirection.WITHDRAWAL, idempotency_key)

    def get_deposit(self, reference: str) -> MovementReceipt | None:
        return self._transfer(TransferDirection.DEPOSIT, reference)

    def _transfer(self, direction: TransferDirection, reference: str) -> MovementReceipt | None:
        with self._transaction(f"get_{direction.value}", mutating=False) as call:
            transfer = transfers.find_transfer(call.session, self.name, direction, reference)
            account = book.account_row(call.session, self.name, self.account)
            if transfer is None or account is None or transfer.account_id != account.id:
                return None
            return transfers.receipt(transfer)

    def deposit_address(self, asset: str, chain: str) -> str:
        if asset != COLLATERAL:
            raise CapabilityNotSupportedError(
                self.name, f"paper venues take {COLLATERAL} deposits only, not {asset!r}"
            )
        return transfers.deposit_address(self.name, self.account, chain)

    def credit_deposit(
        self, reference: str, asset: str, amount: Decimal, chain: str
    ) -> MovementReceipt:
        """Credit a deposit that arrived on `chain` (called by a paper chain or bridge).

        Idempotent by `reference` (e.g. the bridge transfer id or tx hash).
        """
        with self._transaction("credit_deposit", mutating=True) as call:
            account = lock_account(call.session, self.name, self.account)
            transfer = transfers.credit_deposit(
                call.session,
                account,
                reference=reference,
                asset=asset,
                amount=amount,
                chain=chain,
                address=transfers.deposit_address(self.name, self.account, chain),
                now=call.now,
            )
            return transfers.receipt(transfer)

    # ---------------------------------------------------------------- simulation

    def settle(self, now: datetime | None = None) -> VenueAdvance:
        """Advance the whole venue to `now` (default: the clock's now): fills, liquidations,
        withdrawals, funding. For a periodic (beat) task; every other call does it lazily."""
        target = ensure_utc(now) if now is not None else ensure_utc(self._clock.now())
        observed = self.quotes.observe([]) if self.quotes is not None else []
        with self._sessions.begin() as session:
            return advance_venue(session, self.name, target, self._market(session, observed))

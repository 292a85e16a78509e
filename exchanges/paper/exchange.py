"""`PaperExchange`: the `ExchangeClient` port over a simulated venue kept in PostgreSQL.

Each call is one short transaction that first advances the venue to the clock's now (see
`simulation.py`) under the venue's row lock, then locks the account row if it changes
anything. Several processes using the same venue therefore see one venue, one history.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock, ensure_utc
from core.enums import OrderSide
from core.market import FundingKind, FundingRate, Instrument, TopOfBook
from db.models.paper import PaperAccount, PaperOrder, PaperPosition, TransferDirection
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
from exchanges.paper import funding_history, orders, transfers
from exchanges.paper.book import OPEN_ORDER_STATUSES, committed_margin, lock_account
from exchanges.paper.config import PaperVenueConfig
from exchanges.paper.margin import ZERO, execution_price, money
from exchanges.paper.market import Tick, latest_ticks, next_funding_time, venue_symbols
from exchanges.paper.simulation import VenueAdvance, advance_venue
from exchanges.paper.views import position_view, venue_order
from exchanges.venues import symbol_spec, venue_profile

COLLATERAL = transfers.COLLATERAL_ASSET


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
    ) -> None:
        self.profile = venue_profile(venue)
        self.name = venue
        self.account = account
        self.config = config or PaperVenueConfig()
        self._clock = clock
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self._terms = orders.Terms(
            maker_fee=self.config.maker_rate(self.profile),
            taker_fee=self.config.taker_rate(self.profile),
            leverage=self.config.leverage,
            slippage_bps=self.config.slippage_bps,
            impact_bps_per_million=self.config.impact_bps_per_million,
        )

    def __repr__(self) -> str:
        return f"PaperExchange({self.name!r}, account={self.account!r})"

    # ---------------------------------------------------------------- plumbing

    @contextmanager
    def _transaction(self, operation: str, *, mutating: bool) -> Iterator[tuple[Session, datetime]]:
        """One transaction with the venue advanced to now; yields (session, venue now)."""
        try:
            with self._sessions.begin() as session:
                advance = advance_venue(session, self.name, ensure_utc(self._clock.now()))
                yield session, advance.until
        except DBAPIError as exc:
            reason = f"{operation}: database error ({type(exc.orig).__name__})"
            if mutating and exc.connection_invalidated:
                raise UnknownOutcomeError(self.name, reason) from exc
            raise TransientExchangeError(self.name, reason) from exc

    @contextmanager
    def _market_session(self, operation: str) -> Iterator[Session]:
        """A read-only session for market data (no venue lock: ticks are not account state)."""
        try:
            with self._sessions() as session:
                yield session
        except DBAPIError as exc:
            reason = f"{operation}: database error ({type(exc.orig).__name__})"
            raise TransientExchangeError(self.name, reason) from exc

    def _pause(self, key: str, operation: str) -> None:
        delay = self.config.faults.latency_seconds(self.name, key, operation)
        if delay > 0:
            self._clock.sleep(delay)  # a manual clock just moves on by the injected latency

    def _account_row(self, session: Session) -> PaperAccount | None:
        return session.scalars(
            select(PaperAccount).where(
                PaperAccount.venue == self.name, PaperAccount.account == self.account
            )
        ).one_or_none()

    def _tick(self, session: Session, symbol: str, at: datetime) -> Tick:
        tick = latest_ticks(session, self.name, [symbol], at).get(symbol)
        if tick is None:
            raise TransientExchangeError(
                self.name, f"no market data for {symbol} at {at.isoformat()} (no scenario tick yet)"
            )
        return tick

    def _own_order(self, session: Session, client_order_id: str) -> PaperOrder | None:
        order = session.scalars(
            select(PaperOrder).where(
                PaperOrder.venue == self.name, PaperOrder.client_order_id == client_order_id
            )
        ).one_or_none()
        account = self._account_row(session)
        if order is None or account is None or order.account_id != account.id:
            return None
        return order

    # ---------------------------------------------------------------- market data

    def capabilities(self) -> frozenset[Capability]:
        # All of them, WITHDRAWAL_KEY_DEDUPE included: `transfers.request_withdrawal` stores
        # one withdrawal per key and answers a repeat with it.
        return frozenset(Capability)

    def instruments(self) -> Sequence[Instrument]:
        with self._market_session("instruments") as session:
            symbols = venue_symbols(session, self.name)
        result = []
        for symbol in symbols:
            spec = symbol_spec(symbol)
            result.append(
                Instrument(
                    venue=self.name,
                    symbol=symbol,
                    min_qty=spec.min_qty,
                    qty_step=spec.qty_step,
                    tick_size=spec.tick_size,
                    maker_fee=self._terms.maker_fee,
                    taker_fee=self._terms.taker_fee,
                    max_leverage=spec.max_leverage,
                )
            )
        return result

    def funding_rates(self, symbols: Sequence[str] | None = None) -> Sequence[FundingRate]:
        now = ensure_utc(self._clock.now())
        with self._market_session("funding_rates") as session:
            wanted = list(symbols) if symbols is not None else venue_symbols(session, self.name)
            ticks = latest_ticks(session, self.name, wanted, now)
        return [
            FundingRate(
                venue=self.name,
                symbol=tick.symbol,
                rate=tick.funding_rate,
                interval_hours=tick.interval_hours,
                next_funding_time=next_funding_time(now, tick.interval_hours),
                mark_price=tick.mark_price,
                timestamp=tick.ts,
                margin_asset=transfers.COLLATERAL_ASSET,
                kind=FundingKind.PREDICTED,
            )
            for tick in (ticks[s] for s in wanted if s in ticks)
        ]

    def top_of_book(self, symbol: str) -> TopOfBook:
        now = ensure_utc(self._clock.now())
        with self._market_session("top_of_book") as session:
            tick = self._tick(session, symbol, now)
        spec = symbol_spec(symbol)
        bps = self.config.slippage_bps
        qty = (self.config.book_depth_usd / tick.mark_price // spec.qty_step) * spec.qty_step
        return TopOfBook(
            venue=self.name,
            symbol=symbol,
            bid=execution_price(tick.mark_price, OrderSide.SELL, ZERO, spec.tick_size, bps, ZERO),
            bid_qty=qty,
            ask=execution_price(tick.mark_price, OrderSide.BUY, ZERO, spec.tick_size, bps, ZERO),
            ask_qty=qty,
            timestamp=tick.ts,
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
        with self._transaction("place_order", mutating=True) as (session, now):
            account = lock_account(session, self.name, self.account)
            existing = session.scalars(
                select(PaperOrder).where(
                    PaperOrder.venue == self.name, PaperOrder.client_order_id == key
                )
            ).one_or_none()
            if existing is not None:
                if existing.account_id != account.id:
                    raise OrderRejectedError(
                        self.name, f"client order id {key} belongs to another account"
                    )
                order = existing
            else:
                if faults.decides(faults.reject_rate, self.name, key, "reject"):
                    raise OrderRejectedError(self.name, f"order {key}: rejected (injected fault)")
                spec = symbol_spec(request.symbol)
                orders.validate(self.name, request, spec)
                mark = self._tick(session, request.symbol, now).mark_price
                order = orders.submit(
                    session, account, request, mark=mark, spec=spec, terms=self._terms, now=now
                )
                created = True
            result = venue_order(order)
        if created and faults.decides(faults.timeout_after_fill_rate, self.name, key, "timeout"):
            raise UnknownOutcomeError(
                self.name, f"order {key}: timed out waiting for the venue (injected fault)"
            )
        return result

    def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrder:
        self._pause(client_order_id, "cancel_order")
        with self._transaction("cancel_order", mutating=True) as (session, now):
            lock_account(session, self.name, self.account)
            order = self._own_order(session, client_order_id)
            if order is None or order.symbol != symbol:
                raise OrderRejectedError(
                    self.name, f"cancel: no {symbol} order with client id {client_order_id}"
                )
            return venue_order(orders.cancel(order, now))

    def get_order(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        with self._transaction("get_order", mutating=False) as (session, _):
            order = self._own_order(session, client_order_id)
            if order is None or order.symbol != symbol:
                return None
            return venue_order(order)

    def open_orders(self, symbol: str | None = None) -> Sequence[VenueOrder]:
        with self._transaction("open_orders", mutating=False) as (session, _):
            account = self._account_row(session)
            if account is None:
                return []
            query = select(PaperOrder).where(
                PaperOrder.account_id == account.id, PaperOrder.status.in_(OPEN_ORDER_STATUSES)
            )
            if symbol is not None:
                query = query.where(PaperOrder.symbol == symbol)
            return [venue_order(o) for o in session.scalars(query.order_by(PaperOrder.placed_at))]

    # ---------------------------------------------------------------- account

    def positions(self) -> Sequence[Position]:
        with self._transaction("positions", mutating=False) as (session, now):
            account = self._account_row(session)
            return self._open_positions(session, account, now) if account else []

    def _open_positions(
        self, session: Session, account: PaperAccount, now: datetime
    ) -> list[Position]:
        rows = list(
            session.scalars(
                select(PaperPosition)
                .where(PaperPosition.account_id == account.id, PaperPosition.qty != 0)
                .order_by(PaperPosition.symbol)
            )
        )
        marks = latest_ticks(session, self.name, [r.symbol for r in rows], now)
        return [position_view(row, marks[row.symbol].mark_price) for row in rows]

    def funding_payments(self, symbol: str | None, since: datetime) -> Sequence[FundingPayment]:
        """Funding settled on this account for `symbol` (None: all) after `since`."""
        with self._transaction("funding_payments", mutating=False) as (session, _):
            return funding_history.funding_payments(
                session, self.name, self.account, symbol, ensure_utc(since)
            )

    def balance(self) -> Balance:
        """Equity is collateral plus unrealized PnL; available excludes all margin in use."""
        with self._transaction("balance", mutating=False) as (session, now):
            account = self._account_row(session)
            if account is None:
                return Balance(self.name, COLLATERAL, ZERO, ZERO, ZERO)
            positions = self._open_positions(session, account, now)
            held, reserved = committed_margin(session, account)
            collateral = account.collateral
        upnl = sum((p.unrealized_pnl for p in positions), ZERO)
        return Balance(
            venue=self.name,
            asset=COLLATERAL,
            total=money(collateral + upnl),
            available=money(collateral - held - reserved),
            margin_used=money(held + reserved),
        )

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
        with self._transaction("withdraw", mutating=True) as (session, now):
            account = lock_account(session, self.name, self.account)
            transfer, created = transfers.request_withdrawal(
                session,
                account,
                asset=asset,
                amount=amount,
                address=address,
                chain=chain,
                key=key,
                fee=self.config.withdrawal_fee_for(self.profile),
                delay=timedelta(seconds=self.config.withdrawal_delay_s),
                fail_reason="withdrawal failed on the venue (injected fault)" if fails else None,
                now=now,
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
        with self._transaction(f"get_{direction.value}", mutating=False) as (session, _):
            transfer = transfers.find_transfer(session, self.name, direction, reference)
            account = self._account_row(session)
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
        with self._transaction("credit_deposit", mutating=True) as (session, now):
            account = lock_account(session, self.name, self.account)
            transfer = transfers.credit_deposit(
                session,
                account,
                reference=reference,
                asset=asset,
                amount=amount,
                chain=chain,
                address=transfers.deposit_address(self.name, self.account, chain),
                now=now,
            )
            return transfers.receipt(transfer)

    # ---------------------------------------------------------------- simulation

    def settle(self, now: datetime | None = None) -> VenueAdvance:
        """Advance the whole venue to `now` (default: the clock's now): fills, liquidations,
        withdrawals, funding. For a periodic (beat) task; every other call does it lazily."""
        target = ensure_utc(now) if now is not None else ensure_utc(self._clock.now())
        with self._sessions.begin() as session:
            return advance_venue(session, self.name, target)

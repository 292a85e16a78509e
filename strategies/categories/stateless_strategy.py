"""Level 2: `StatelessStrategy`, for simple single-venue strategies (grid, TWAP).

A template method. `run_cycle` is final and calls the hooks in a fixed order:

    fetch_market(now) -> MarketSnapshot          optional: default reads the configured venue
    decide(snapshot, now) -> Sequence[Action]    the one hook every strategy writes
    execute(actions, now) -> Sequence[object]    optional: default places/cancels orders

Nothing is kept between cycles: each one re-reads the venue, so a restarted worker simply
carries on. `decide` is plain Python over a snapshot and returns actions as data, which makes
it testable without a venue. An exception in any hook is logged with the strategy's name and
returned as a failed `CycleResult`; the caller's loop never dies and the next cycle runs.

Optional lifecycle hooks `on_start`, `on_stop` and `on_error` do nothing by default.

Components: a strategy declares the typed bundle it needs as the category's second type
parameter — `StatelessComponents` (the clock and the configured venue's client), or a
subclass of it with more — and builds it from the kit in `create(config, kit)`.
"""

from __future__ import annotations

import logging
import uuid
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar, final

from pydantic import StringConstraints

from core.clock import Clock, ensure_utc
from core.errors import PerpbotError
from core.market import TopOfBook
from exchanges.base import ExchangeClient, OrderRequest, Position, VenueOrder
from strategies.base_strategy import BaseStrategy, CycleResult, StrategyConfig
from strategies.components.base_components import ComponentMissingError
from strategies.components.kit import ComponentKit

logger = logging.getLogger(__name__)

BPS = Decimal(10_000)
_CLIENT_ID_NAMESPACE = uuid.UUID("5b0b7a52-7d0e-4c57-9a53-1f1c1c5e9d31")


class StatelessStrategyConfig(StrategyConfig):
    """Config base for a stateless strategy: the one venue and symbol it trades."""

    venue: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    symbol: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    # The venue sub-account traded on. It must be dedicated to this strategy: the position
    # on `symbol` there is read as the strategy's own.
    account: Annotated[
        str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    ] = "main"

    def venue_accounts(self) -> list[tuple[str, str]]:
        return [(self.venue, self.account)]

    def traded_symbols(self) -> list[str]:
        return [self.symbol]


StatelessConfigT = TypeVar("StatelessConfigT", bound=StatelessStrategyConfig)


@dataclass(frozen=True, slots=True)
class StatelessComponents:
    """What every stateless strategy gets: the clock and the configured venue's client."""

    clock: Clock
    exchange: ExchangeClient

    @classmethod
    def from_kit(cls, kit: ComponentKit, config: StatelessStrategyConfig) -> StatelessComponents:
        return StatelessComponents(kit.clock, configured_venue(kit, config))


def configured_venue(kit: ComponentKit, config: StatelessStrategyConfig) -> ExchangeClient:
    """The client of the config's venue; a missing one is a `ComponentMissingError` (a
    `ConfigError`) naming the strategy, the venue and the venues there are."""
    try:
        return kit.exchange(config.venue)
    except ComponentMissingError as exc:
        raise ComponentMissingError(f"strategy {config.name}: {exc}") from None


ComponentsT = TypeVar("ComponentsT", bound=StatelessComponents)


# ---------------------------------------------------------------- market data


def mid_price(book: TopOfBook) -> Decimal:
    """(bid + ask) / 2."""
    return (book.bid + book.ask) / 2


def spread_bps(book: TopOfBook) -> Decimal:
    """The bid-ask spread in basis points of the mid price."""
    mid = mid_price(book)
    if mid <= 0:
        raise ValueError(
            f"{book.venue} {book.symbol}: no valid mid price (bid {book.bid}, ask {book.ask})"
        )
    return (book.ask - book.bid) / mid * BPS


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """What the default `fetch_market` reads for the configured venue and symbol."""

    venue: str
    symbol: str
    book: TopOfBook
    position: Position | None  # None: flat on this symbol
    open_orders: tuple[VenueOrder, ...]
    taken_at: datetime

    @property
    def mid(self) -> Decimal:
        return mid_price(self.book)

    @property
    def spread_bps(self) -> Decimal:
        return spread_bps(self.book)

    @property
    def position_qty(self) -> Decimal:
        """Signed base quantity held: > 0 long, < 0 short, 0 flat."""
        return self.position.qty if self.position is not None else Decimal(0)


# ---------------------------------------------------------------- actions


@dataclass(frozen=True, slots=True)
class Action:
    """Base of the actions `decide` returns. A strategy may define its own subclasses (and
    then overrides `execute` to carry them out)."""


@dataclass(frozen=True, slots=True)
class PlaceOrder(Action):
    """Place `request` on the strategy's venue; its client order id makes a repeat harmless."""

    request: OrderRequest


@dataclass(frozen=True, slots=True)
class CancelOrder(Action):
    """Cancel the order with this client order id on the strategy's venue and symbol."""

    client_order_id: str


class ActionExecutionError(PerpbotError):
    """One action failed; `completed` holds what the earlier actions returned."""

    def __init__(
        self, index: int, action: object, cause: Exception, completed: Sequence[object]
    ) -> None:
        super().__init__(f"action {index} ({type(action).__name__}) failed: {cause}")
        self.index = index
        self.action = action
        self.completed = tuple(completed)


# ---------------------------------------------------------------- the template


class StatelessStrategy(BaseStrategy[StatelessConfigT], Generic[StatelessConfigT, ComponentsT]):
    """Subclass with your config and components types, set `config_model` (a
    `StatelessStrategyConfig`), write `create` and implement `decide`."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # `typing.final` is only seen by type checkers; this refuses it at import time.
        if "run_cycle" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} must not override run_cycle: it is the fixed template "
                "(fetch_market -> decide -> execute); override those hooks instead"
            )
        model = cls.__dict__.get("config_model")
        if model is not None and not issubclass(model, StatelessStrategyConfig):
            raise TypeError(
                f"{cls.__name__}.config_model must derive from StatelessStrategyConfig "
                "(it names the venue and symbol)"
            )

    def __init__(self, config: StatelessConfigT, components: ComponentsT) -> None:
        super().__init__(config)
        self._components = components

    @property
    def exchange(self) -> ExchangeClient:
        """The client for the configured venue."""
        return self._components.exchange

    @property
    def clock(self) -> Clock:
        return self._components.clock

    @property
    def components(self) -> ComponentsT:
        return self._components

    # -- lifecycle

    def start(self) -> None:
        self.on_start()

    def stop(self) -> None:
        self.on_stop()

    # -- the template

    @final
    def run_cycle(self, now: datetime) -> CycleResult:
        now = ensure_utc(now)  # a naive time is the caller's bug: fail fast, outside the guard
        hook = "fetch_market"
        actions: list[Action] = []
        results: list[object] = []
        try:
            snapshot = self.fetch_market(now)
            hook = "decide"
            actions = list(self.decide(snapshot, now))
            if actions:
                hook = "execute"
                results = list(self.execute(actions, now))
        except Exception as exc:
            if isinstance(exc, ActionExecutionError):
                results = list(exc.completed)
            failed = self._failed_cycle(hook, exc, now, actions, results)
            self._notify_error(failed, now)
            return failed
        return CycleResult(self.name, now, tuple(actions), tuple(results))

    def _notify_error(self, failed: CycleResult, now: datetime) -> None:
        assert failed.error is not None
        try:
            self.on_error(failed, now)
        except Exception:
            # The error is already logged and returned; a broken handler must not hide it.
            logger.exception("strategy %s: on_error failed", self.name)

    # -- hooks

    def fetch_market(self, now: datetime) -> MarketSnapshot:
        """Top of book, position and open orders for the configured venue and symbol."""
        symbol = self.config.symbol
        book = self.exchange.top_of_book(symbol)
        position = next((p for p in self.exchange.positions() if p.symbol == symbol), None)
        if position is not None and position.qty == 0:
            position = None
        orders = tuple(self.exchange.open_orders(symbol))
        return MarketSnapshot(self.exchange.name, symbol, book, position, orders, now)

    @abstractmethod
    def decide(self, snapshot: MarketSnapshot, now: datetime) -> Sequence[Action]:
        """What to do now, as data. Must not touch the venue: `execute` does that."""

    def execute(self, actions: Sequence[Action], now: datetime) -> Sequence[object]:
        """Carry out `PlaceOrder` / `CancelOrder` in order; returns the venue's orders.

        Stops at the first failure (raising `ActionExecutionError` with what was done). Client
        order ids make a repeat of an already-placed order harmless, so the next cycle can
        simply decide again from the venue's state.
        """
        symbol = self.config.symbol
        done: list[object] = []
        for index, action in enumerate(actions):
            try:
                if isinstance(action, PlaceOrder):
                    done.append(self.exchange.place_order(action.request))
                elif isinstance(action, CancelOrder):
                    done.append(self.exchange.cancel_order(symbol, action.client_order_id))
                else:
                    raise TypeError(
                        f"the default execute() handles PlaceOrder and CancelOrder; "
                        f"override execute() to carry out {type(action).__name__}"
                    )
            except Exception as exc:
                raise ActionExecutionError(index, action, exc, done) from exc
        return done

    def on_start(self) -> None:
        """Called by `start()`. Default: nothing."""

    def on_stop(self) -> None:
        """Called by `stop()`. Default: nothing."""

    def on_error(self, failed: CycleResult, now: datetime) -> None:
        """Called after a failed cycle was logged (e.g. to alert). Default: nothing."""

    # -- helpers

    def client_order_id(self, now: datetime, tag: str) -> str:
        """A deterministic client order id for (strategy, cycle time, tag): 32 hex chars.

        Re-running the cycle for the same `now` (a redelivered task carries its scheduled
        time) yields the same ids, so the venue returns the existing order instead of
        placing a second one.
        """
        key = f"{self.name}|{ensure_utc(now).isoformat()}|{tag}"
        return uuid.uuid5(_CLIENT_ID_NAMESPACE, key).hex

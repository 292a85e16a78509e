"""The plumbing under `CcxtExchangeClient`: calls into ccxt with typed errors, bounded read
retries, and the venue's perpetual markets (reloaded hourly on the injected clock).

ccxt parses a venue's answer in its own code; when that answer is not what ccxt expects it
can fail with a plain TypeError or KeyError. Those are the venue's malformed answer too, so
they become `MalformedResponseError` here, like ccxt's own errors become the port's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import InvalidOperation
from typing import Any, TypeVar

import ccxt

from core.clock import Clock
from exchanges.base import (
    Capability,
    CapabilityNotSupportedError,
    MalformedResponseError,
    TransientExchangeError,
)
from exchanges.ccxt_parsing import translate_error
from exchanges.ccxt_venues import CAPABILITY_KEYS, select_perpetuals
from exchanges.venue_quirks import VenueQuirks

T = TypeVar("T")
MARKETS_TTL = timedelta(hours=1)
# What ccxt raises when its parser meets an answer it does not expect.
PARSE_FAILURES = (
    TypeError,
    ValueError,
    KeyError,
    IndexError,
    AttributeError,
    ArithmeticError,
    InvalidOperation,
)


def _supported(value: object) -> bool:
    return value is True or value == "emulated"


class CcxtSession:
    def __init__(
        self,
        quirks: VenueQuirks,
        exchange: ccxt.Exchange,
        clock: Clock,
        read_attempts: int,
        backoff_s: float,
        sleep: Callable[[float], None],
    ) -> None:
        self.venue = quirks.venue
        self.quirks = quirks
        self.exchange = exchange
        self.clock = clock
        self._read_attempts = max(1, read_attempts)
        self._backoff_s = backoff_s
        self._sleep = sleep
        self._perpetuals: dict[str, Mapping[str, Any]] = {}
        self._loaded_at: datetime | None = None

    # ---------------------------------------------------------------- capabilities

    def has(self, key: str) -> bool:
        return _supported(self.exchange.has.get(key))

    def ccxt_can(self, capability: Capability) -> bool:
        # A capability with no ccxt keys (withdrawal dedupe by key) is one ccxt never has.
        groups = CAPABILITY_KEYS.get(capability, ())
        return any(all(self.has(k) for k in group) for group in groups)

    def capabilities(self) -> frozenset[Capability]:
        return frozenset(
            c for c in Capability if self.ccxt_can(c) and self.quirks.reason(c) is None
        )

    def require(self, capability: Capability) -> None:
        reason = self.quirks.reason(capability)
        if reason is not None:
            raise CapabilityNotSupportedError(
                self.venue,
                f"{capability.value} is refused through ccxt {ccxt.__version__}: {reason}",
            )
        if not self.ccxt_can(capability):
            needs = " or ".join(" + ".join(group) for group in CAPABILITY_KEYS[capability])
            raise CapabilityNotSupportedError(
                self.venue,
                f"{capability.value} is not supported by ccxt {self.exchange.id} "
                f"{ccxt.__version__} (needs {needs} in exchange.has)",
            )

    # ---------------------------------------------------------------- calls

    def read(self, operation: str, call: Callable[[], T]) -> T:
        """Run a read; retry transient failures with exponential backoff, a few times."""
        for attempt in range(self._read_attempts):
            try:
                return call()
            except ccxt.BaseError as exc:
                error = translate_error(self.venue, operation, exc, side_effect=False)
                if not isinstance(error, TransientExchangeError):
                    raise error from exc
                if attempt + 1 == self._read_attempts:
                    raise error from exc
            except PARSE_FAILURES as exc:
                raise self.unreadable(operation, exc) from exc
            self._sleep(self._backoff_s * 2**attempt)
        raise AssertionError("unreachable: the loop returns or raises")

    def write(self, operation: str, call: Callable[[], T]) -> T:
        """Run a call with a side effect once; its errors say whether to look it up."""
        try:
            return call()
        except ccxt.BaseError as exc:
            raise translate_error(self.venue, operation, exc, side_effect=True) from exc
        except PARSE_FAILURES as exc:
            raise self.unreadable(operation, exc) from exc

    def unreadable(self, operation: str, exc: Exception) -> MalformedResponseError:
        return MalformedResponseError(
            self.venue,
            f"{operation}: ccxt could not read the venue's answer "
            f"({type(exc).__name__}: {str(exc)[:200]})",
        )

    def answer_object(self, operation: str, answer: object) -> Mapping[str, Any]:
        """A ccxt answer that must be one object (an order, a fee schedule), typed as one."""
        if not isinstance(answer, Mapping):
            raise MalformedResponseError(
                self.venue, f"{operation}: the answer is {type(answer).__name__}, not an object"
            )
        return answer

    # ---------------------------------------------------------------- markets

    def perpetuals(self) -> dict[str, Mapping[str, Any]]:
        """Base asset -> the venue's linear perpetual for it, preferring USDC settlement.

        Markets are reloaded when an hour old: venues change funding intervals and steps.
        """
        now = self.clock.now()
        if self._loaded_at is None or now - self._loaded_at > MARKETS_TTL:
            stale = self._loaded_at is not None
            markets = self.read("load_markets", lambda: self.exchange.load_markets(reload=stale))
            fix = self.quirks.market_fix
            if fix is not None:  # ccxt must know the corrected markets too, to use them
                self.exchange.set_markets([fix(dict(m)) for m in markets.values()])
                markets = self.exchange.markets
            self._perpetuals = select_perpetuals(markets.values())
            self._loaded_at = now
        return self._perpetuals

    def market(self, symbol: str) -> Mapping[str, Any]:
        market = self.perpetuals().get(symbol)
        if market is None:
            raise CapabilityNotSupportedError(self.venue, f"no perpetual market for {symbol}")
        return market

    def base_of(self, ccxt_symbol: object, method: str) -> str:
        for base, market in self.perpetuals().items():
            if market["symbol"] == ccxt_symbol:
                return base
        raise MalformedResponseError(
            self.venue, f"{method}: field 'symbol' is {ccxt_symbol!r}, not a perpetual we know"
        )

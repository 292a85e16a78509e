"""Funding types strategies may use: the rate source they read and the per-position ledger of
funding payments they keep.

Pure Python (re-exported through `base_components`), like `order_types`. The backends are
`funding_service.store.PostgresFundingRateSource` and `funding_payments.py`
(`PostgresFundingPaymentStore` on `funding_payments`, `InMemoryFundingPaymentStore`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from core.market import FundingKind, FundingRate


@runtime_checkable
class FundingRateSource(Protocol):
    """Stored funding rates: predicted quotes (collected from the venues by the funding
    service) and realised settlements (imported history). Every read names its kind."""

    def latest_rates(
        self,
        since: datetime,
        venues: Sequence[str] | None = None,
        symbols: Sequence[str] | None = None,
        *,
        kind: FundingKind,
    ) -> list[FundingRate]:
        """The newest rate of `kind` per (venue, symbol, margin asset) known since `since`."""
        ...

    def rate_history(
        self, venue: str, symbol: str, since: datetime, until: datetime, *, kind: FundingKind
    ) -> list[FundingRate]:
        """Rates of `kind` known in [since, until] (no settlement paid after `until`)."""
        ...


@dataclass(frozen=True, slots=True)
class FundingPaymentRecord:
    """One funding payment on one leg of a position, as the venue settled it."""

    position_id: uuid.UUID
    strategy_name: str
    venue: str
    symbol: str
    funding_time: datetime
    rate: Decimal  # per interval
    position_qty: Decimal  # signed base quantity the venue paid on
    mark_price: Decimal
    amount_usd: Decimal  # signed: > 0 received, < 0 paid


@dataclass(frozen=True, slots=True)
class FundingLegSummary:
    """What one leg (venue) of a position has collected so far."""

    venue: str
    total_usd: Decimal
    payments: int
    last_funding_time: datetime


@runtime_checkable
class FundingPaymentStore(Protocol):
    """Funding payments per position and leg, at most one per (position, venue, funding time).

    Recording is idempotent: a payment already stored is skipped, so a monitor that runs
    twice (a redelivered task) never counts funding twice.
    """

    def record(self, payments: Sequence[FundingPaymentRecord]) -> list[FundingPaymentRecord]:
        """Store the payments not stored yet; returns those that were new."""
        ...

    def summary(self, position_id: uuid.UUID) -> dict[str, FundingLegSummary]:
        """Totals per venue of one position (venues without payments are absent)."""
        ...

    def for_position(self, position_id: uuid.UUID) -> list[FundingPaymentRecord]:
        """Every payment of one position, oldest first."""
        ...

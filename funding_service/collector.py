"""Collect funding rates from every configured venue into `funding_rates`.

What it stores are the venues' current quotes (`FundingKind.PREDICTED`), each labelled with
the margin asset of the perpetual the venue adapter trades; an adapter returning any other
kind is a failure of that venue (realised history comes in through `data import`/`fetch`).

One venue failing (down, rate-limited, malformed answer, a value the database cannot hold)
never stops the others: its failure is recorded as an event and reported, and the next run
tries again. Storing is idempotent on (kind, venue, symbol, margin asset, observed time), so
a redelivered collection task stores nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import DataError

from core.clock import Clock
from core.market import FundingKind
from db.repositories import EventRepository
from db.repositories.funding_rates import FundingRateRepository
from db.uow import unit_of_work
from exchanges.base import ExchangeClient, ExchangeError

logger = logging.getLogger(__name__)


@dataclass
class CollectionReport:
    stored: dict[str, int] = field(default_factory=dict)  # venue -> new rows
    fetched: dict[str, int] = field(default_factory=dict)  # venue -> rates received
    failures: dict[str, str] = field(default_factory=dict)  # venue -> reason

    def as_dict(self) -> dict[str, object]:
        return {"stored": self.stored, "fetched": self.fetched, "failures": self.failures}


class FundingCollector:
    def __init__(
        self, clients: Mapping[str, ExchangeClient], clock: Clock, engine: Engine | None = None
    ) -> None:
        self._clients = clients
        self._clock = clock
        self._engine = engine

    def collect(self) -> CollectionReport:
        report = CollectionReport()
        for venue in sorted(self._clients):
            try:
                rates = list(self._clients[venue].funding_rates())
            except ExchangeError as exc:
                self._record_failure(report, venue, f"{type(exc).__name__}: {exc}")
                continue
            except Exception as exc:  # an adapter bug must not stop the other venues
                logger.exception("funding collection from %s crashed", venue)
                self._record_failure(report, venue, f"unexpected {type(exc).__name__}: {exc}")
                continue
            wrong = [r for r in rates if r.venue != venue]
            if wrong:
                self._record_failure(report, venue, f"adapter returned rates of {wrong[0].venue}")
                continue
            not_quotes = [r for r in rates if r.kind is not FundingKind.PREDICTED]
            if not_quotes:
                self._record_failure(
                    report, venue, f"adapter returned {not_quotes[0].kind} rates, not quotes"
                )
                continue
            try:
                with unit_of_work(self._engine) as session:
                    report.stored[venue] = FundingRateRepository(session).add_many(rates)
            except DataError as exc:  # e.g. a value beyond Numeric(38, 18): this venue only
                self._record_failure(report, venue, f"cannot store its rates: {exc.orig}")
                continue
            report.fetched[venue] = len(rates)
        return report

    def _record_failure(self, report: CollectionReport, venue: str, reason: str) -> None:
        report.failures[venue] = reason
        logger.warning("funding collection from %s failed: %s", venue, reason)
        now = self._clock.now()
        with unit_of_work(self._engine) as session:
            EventRepository(session).append(
                "funding.collect_failed",
                "venue",
                venue,
                occurred_at=now,
                reason=reason,
                at=now.isoformat(),
            )

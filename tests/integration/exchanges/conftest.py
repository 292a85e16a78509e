"""Paper-venue fixtures: committed data in the test database, a manual clock, hand-made ticks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core.clock import ManualClock
from db.models.paper import PaperAccount, PaperLedgerEntry
from exchanges.paper import PaperExchange, PaperVenueConfig
from exchanges.scenarios import store_ticks
from exchanges.simulation.market import Tick

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday, 00:00 UTC: a funding time everywhere


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def flat_ticks(
    venue: str,
    symbol: str,
    marks: Sequence[Decimal | str | int],
    rates: Sequence[Decimal | str] | Decimal | str = "0",
    interval: int = 1,
    step: timedelta = timedelta(hours=1),
    start: datetime = START,
) -> list[Tick]:
    """One tick per step with the given marks (and rates per interval)."""
    if not isinstance(rates, list | tuple):
        rates = [rates] * len(marks)
    return [
        Tick(venue, symbol, start + step * i, Decimal(str(m)), Decimal(str(r)), Decimal(interval))
        for i, (m, r) in enumerate(zip(marks, rates, strict=True))
    ]


@pytest.fixture
def store_market(clean_db: Engine) -> Callable[[list[Tick]], int]:
    def store(ticks: list[Tick]) -> int:
        return store_ticks(clean_db, ticks)

    return store


@pytest.fixture
def paper(clean_db: Engine, clock: ManualClock) -> Callable[..., PaperExchange]:
    """Build paper venue accounts on the test database, all on the test's manual clock."""

    def build(
        venue: str = "hyperliquid",
        account: str = "main",
        deposit: Decimal | int | None = 10_000,
        **config: object,
    ) -> PaperExchange:
        exchange = PaperExchange(
            venue,
            engine=clean_db,
            clock=clock,
            account=account,
            config=PaperVenueConfig(**config),  # type: ignore[arg-type]
        )
        if deposit:
            exchange.credit_deposit(f"seed-{venue}-{account}", "USDC", Decimal(deposit), "arbitrum")
        return exchange

    return build


def ledger_sum(engine: Engine, venue: str, account: str = "main") -> tuple[Decimal, Decimal]:
    """(collateral, sum of the account's ledger rows): they must always be equal."""
    with Session(engine) as session:
        row = session.scalars(
            select(PaperAccount).where(PaperAccount.venue == venue, PaperAccount.account == account)
        ).one()
        total = session.scalar(
            select(func.coalesce(func.sum(PaperLedgerEntry.amount), 0)).where(
                PaperLedgerEntry.account_id == row.id
            )
        )
        return row.collateral, Decimal(total)


def ledger_by_kind(engine: Engine, venue: str, account: str = "main") -> dict[str, Decimal]:
    with Session(engine) as session:
        rows = session.execute(
            select(PaperLedgerEntry.kind, func.sum(PaperLedgerEntry.amount))
            .join(PaperAccount, PaperAccount.id == PaperLedgerEntry.account_id)
            .where(PaperAccount.venue == venue, PaperAccount.account == account)
            .group_by(PaperLedgerEntry.kind)
        )
        return {kind: Decimal(amount) for kind, amount in rows}

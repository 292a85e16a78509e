"""Two real processes trading one paper account at once leave it consistent."""

import multiprocessing
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models.paper import (
    PaperAccount,
    PaperFill,
    PaperFundingSettlement,
    PaperLedgerEntry,
    PaperOrder,
    PaperPosition,
    PaperTransfer,
)
from exchanges.simulation.margin import money

from .conftest import START, flat_ticks, ledger_sum
from .paper_trader import trade

D = Decimal
HOURS = 12
MARKS = [D(3_000) + D(9) * ((i * 7) % 5 - 2) for i in range(HOURS + 1)]
RATES = [D("0.00001") * ((i * 3) % 4 + 1) for i in range(HOURS + 1)]


@pytest.mark.slow
def test_two_processes_trading_one_account_keep_it_consistent(
    paper, store_market, clean_db, clock, database_url
):
    store_market(flat_ticks("hyperliquid", "ETH", MARKS, RATES))
    venue = paper(account="shared", deposit=10_000)  # the venue starts at START
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    go = context.Barrier(2)
    workers = [
        context.Process(
            target=trade, args=(database_url, name, START.isoformat(), 36, seed, results, go)
        )
        for name, seed in (("a", 1), ("b", 2))
    ]
    for worker in workers:
        worker.start()
    reports = [results.get(timeout=180) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    (a_start, a_end), (b_start, b_end) = (report["span"] for report in reports)
    assert a_start < b_end and b_start < a_end  # they really traded at the same time
    clock.set(START + timedelta(hours=HOURS))
    venue.settle()

    placed = {cid: spec for report in reports for cid, spec in report["placed"].items()}
    rejected = {cid for report in reports for cid in report["rejected"]}
    assert rejected and not rejected & placed.keys()  # faults happened, decided alike in both
    with Session(clean_db) as session:
        account = session.scalars(
            select(PaperAccount).where(PaperAccount.account == "shared")
        ).one()
        orders = list(
            session.scalars(select(PaperOrder).where(PaperOrder.account_id == account.id))
        )
        fills = list(session.scalars(select(PaperFill).where(PaperFill.account_id == account.id)))
        position = session.scalars(
            select(PaperPosition).where(PaperPosition.account_id == account.id)
        ).one()
        settlements = list(session.scalars(select(PaperFundingSettlement)))
        funding = {
            row.reference: row.amount
            for row in session.scalars(
                select(PaperLedgerEntry).where(PaperLedgerEntry.kind == "funding")
            )
        }
        transfers = list(
            session.scalars(select(PaperTransfer).where(PaperTransfer.direction == "withdrawal"))
        )

    # Every accepted order exists once (shared ids included), filled once.
    assert sorted(o.client_order_id for o in orders) == sorted(placed)
    assert all(o.status == "filled" for o in orders) and len(fills) == len(orders)

    def signed(side: str, qty: Decimal) -> Decimal:
        return qty if side == "buy" else -qty

    expected_qty = sum(signed(side, D(qty)) for side, qty in placed.values())
    assert position.qty == expected_qty == sum(signed(f.side, f.qty) for f in fills)

    # Each hour settled once; each payment is on the position held just before that hour.
    assert sorted(s.funding_time for s in settlements) == [
        START + timedelta(hours=h) for h in range(1, HOURS + 1)
    ]
    for settlement in settlements:
        held = sum(
            (signed(f.side, f.qty) for f in fills if f.filled_at < settlement.funding_time), D(0)
        )
        reference = f"ETH@{settlement.funding_time.isoformat()}"
        if held == 0:
            assert reference not in funding
        else:
            assert funding[reference] == money(-held * settlement.mark_price * settlement.rate)

    # Shared withdrawal keys gave one withdrawal each.
    keys = {key for report in reports for key in report["withdrawals"]}
    assert sorted(t.reference for t in transfers) == sorted(keys)
    collateral, ledger = ledger_sum(clean_db, "hyperliquid", "shared")
    assert collateral == ledger

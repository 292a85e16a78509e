"""Every time a transfer writes comes from the injected clock, never the database's `now()`:
run under a manual clock years away from the wall clock, the audit events, the transfer row
and the paper network's rows all read in simulated time."""

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from core.clock import ManualClock
from core.enums import TransferStatus as S
from db.models import Event, FundTransfer
from db.models.bridges import PaperBridgeProtocolState, PaperWallet, PaperWalletEntry
from exchanges.bridges.paper_bridges import set_protocol_down
from tests.integration.transfers.conftest import run_until_final
from tests.integration.transfers.support import fund_venues, inline_manager, make_config

FAR = datetime(2019, 6, 3, 12, 0, tzinfo=UTC)  # years from the wall clock


def test_every_time_a_transfer_writes_is_the_manual_clocks(clean_db: Engine):
    clock = ManualClock(FAR)
    fund_venues(clean_db, clock)
    set_protocol_down(clean_db, clock, "slow_cheap", True, "maintenance")
    manager, dispatcher = inline_manager(
        clean_db, clock, make_config(withdrawal_delay_s=60, confirm_s=30, bridge_latency_s=120)
    )
    transfer = manager.request_transfer("hyperliquid", "lighter", Decimal(1000)).record.id
    run_until_final(manager, dispatcher, clock, [transfer])
    end = clock.now()
    assert manager.get(transfer).status is S.COMPLETED
    assert end > FAR  # the clock moved: times below are not all one constant

    with Session(clean_db) as session:
        events = session.scalars(
            select(Event).where(Event.entity_id == str(transfer)).order_by(Event.id)
        ).all()
        row = session.get(FundTransfer, transfer)
        wallets = session.scalars(select(PaperWallet)).all()
        ledger = session.scalars(select(PaperWalletEntry)).all()
        protocol = session.get(PaperBridgeProtocolState, "slow_cheap")

    kinds = [e.kind for e in events]
    assert kinds[0] == "transfer.requested" and kinds[-1] == "transfer.completed"
    assert {"transfer.withdrawn", "transfer.bridged", "transfer.depositing"} <= set(kinds)
    times = [e.occurred_at for e in events]
    assert all(FAR <= t <= end for t in times), times
    assert times == sorted(times)  # written in order, on one clock
    assert times[0] == FAR and times[-1] > FAR

    assert row is not None
    assert row.created_at == FAR
    assert row.updated_at == times[-1]  # the completing save wrote the row and its event
    assert row.completed_at is not None and FAR < row.completed_at <= end

    assert wallets and ledger and protocol is not None
    assert all(FAR <= w.created_at <= end for w in wallets)
    assert all(FAR <= e.created_at <= end and e.occurred_at <= e.created_at for e in ledger)
    assert protocol.updated_at == FAR

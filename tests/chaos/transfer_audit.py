"""After a chaos run: where every transfer's money is according to the venues and the paper
network (not according to `fund_transfers`), and whether the two agree."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from core.enums import FundsLocation as L
from core.enums import TransferStatus as S
from db.models.bridges import PaperBridgeTransfer, PaperChainTransfer
from db.models.paper import PaperTransfer
from exchanges.bridges.accounting import MoneyFigures
from strategies.components.transfer_types import TransferRecord


@dataclass
class Audit:
    problems: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    locations: Counter[str] = field(default_factory=Counter)

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.problems.append(message)


def _rows(session: Session, model: type, key_column: object, transfer_id: uuid.UUID) -> list:
    return list(session.scalars(select(model).where(key_column.like(f"{transfer_id}:%"))))  # type: ignore[attr-defined]


def ground_truth(session: Session, record: TransferRecord) -> tuple[L, dict[str, int]]:
    """Where the venues and the network say this transfer's money is, and how many live
    (not failed) withdrawals / bridge sends / wallet sends / deposits it made."""
    withdrawals = [
        w
        for w in _rows(session, PaperTransfer, PaperTransfer.reference, record.id)
        if w.direction == "withdrawal" and w.state != "failed"
    ]
    deposits = [
        d
        for d in _rows(session, PaperTransfer, PaperTransfer.reference, record.id)
        if d.direction == "deposit"
    ]
    bridges = [
        b
        for b in _rows(session, PaperBridgeTransfer, PaperBridgeTransfer.key, record.id)
        if b.state != "failed"
    ]
    sends = _rows(session, PaperChainTransfer, PaperChainTransfer.key, record.id)
    counts = {
        "withdrawals": len(withdrawals),
        "bridge_sends": len(bridges),
        "chain_sends": len(sends),
        "deposits": len(deposits),
    }
    if deposits:
        location = L.DESTINATION
    elif sends:
        location = L.IN_FLIGHT_DEPOSIT
    elif bridges and bridges[0].state == "pending":
        location = L.IN_FLIGHT_BRIDGE
    elif withdrawals and withdrawals[0].state == "pending":
        location = L.IN_FLIGHT_WITHDRAWAL
    elif withdrawals:
        location = L.WALLET
    else:
        location = L.SOURCE
    return location, counts


def audit_transfers(engine: Engine, records: list[TransferRecord], money: MoneyFigures) -> Audit:
    audit = Audit()
    at_wallet = Decimal(0)
    with Session(engine) as session:
        for record in records:
            audit.statuses[record.status.value] += 1
            audit.locations[record.funds_location.value] += 1
            name = f"transfer {record.id} ({record.status.value})"
            audit.check(
                record.status in (S.COMPLETED, S.FAILED, S.NEEDS_RECONCILE, S.CANCELLED),
                f"{name}: not in a final state",
            )
            audit.check(record.funds_location is not L.UNKNOWN, f"{name}: money not located")
            truth, counts = ground_truth(session, record)
            audit.check(
                all(n <= 1 for n in counts.values()), f"{name}: duplicate side effects {counts}"
            )
            audit.check(
                truth is record.funds_location,
                f"{name}: row says {record.funds_location.value}, venues say {truth.value}",
            )
            if record.status is S.COMPLETED:
                expected = {
                    "withdrawals": 1,
                    "bridge_sends": 1 if record.needs_bridge else 0,
                    "chain_sends": 1,
                    "deposits": 1,
                }
                audit.check(counts == expected, f"{name}: side effects {counts}, want {expected}")
                audit.check(
                    record.received == record.amount - record.fee,
                    f"{name}: received {record.received} != {record.amount} - {record.fee}",
                )
            if record.funds_location is L.WALLET:
                at_wallet += record.net_amount
    audit.check(
        money.wallets == at_wallet,
        f"wallets hold {money.wallets}, transfers located in wallets account for {at_wallet}",
    )
    for figure in ("withdrawals_in_flight", "bridges_in_flight", "deposits_in_flight"):
        audit.check(getattr(money, figure) == 0, f"{figure} is {getattr(money, figure)} at rest")
    return audit

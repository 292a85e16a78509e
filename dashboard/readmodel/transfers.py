"""The transfers page: each transfer's place in its state machine, where the money is, how
long each step took (from its events), and what an operator has to do."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.enums import TransferStatus
from dashboard.readmodel.paging import Paging
from db.models import Event, FundTransfer
from strategies.components.transfer_states import ACTIVE_STATUSES

PAGE_SIZE = 50  # newest first; older ones a page link away
# The happy path, in order (the bridge steps only when the venues are on different chains).
PATH = (
    TransferStatus.PENDING,
    TransferStatus.WITHDRAWING,
    TransferStatus.WITHDRAWN,
    TransferStatus.BRIDGING,
    TransferStatus.BRIDGED,
    TransferStatus.DEPOSITING,
    TransferStatus.COMPLETED,
)


@dataclass(frozen=True, slots=True)
class Step:
    status: str
    entered_at: datetime
    lasted: timedelta | None  # None: the transfer is still in this step
    detail: str


@dataclass(frozen=True, slots=True)
class TransferRow:
    transfer: FundTransfer
    steps: list[Step]

    @property
    def path(self) -> list[tuple[str, str]]:
        """(status, "done" / "current" / "todo" / "skipped") along the happy path."""
        reached = {s.status for s in self.steps} | {self.transfer.status}
        stopped = self.transfer.paused_status or self.transfer.status
        index = {s.value: k for k, s in enumerate(PATH)}
        at = index.get(stopped, -1)
        marks = []
        for k, status in enumerate(PATH):
            if status.value == self.transfer.status:
                mark = "done" if status is TransferStatus.COMPLETED else "current"
            elif k < at:
                mark = "done" if status.value in reached else "skipped"
            else:
                mark = "todo"
            marks.append((status.value, mark))
        return marks

    @property
    def operator_action(self) -> str | None:
        t = self.transfer
        if t.status == TransferStatus.NEEDS_RECONCILE:
            return (
                f"the outcome of a send is unknown: check the {t.paused_status or ''} step on "
                f"the venue or bridge, then `trading_bot.py transfer retry {t.id}` (sends under "
                f"the same key) or `transfer resolve {t.id} --outcome ...`"
            )
        if t.status == TransferStatus.FAILED:
            return (
                f"stopped with the money at {t.funds_location}"
                + (f" ({t.funds_chain})" if t.funds_chain else "")
                + f": `trading_bot.py transfer retry {t.id}` or `transfer resolve {t.id}`"
            )
        if t.status in ACTIVE_STATUSES and t.unconfirmed_sends > 0:
            return "a send is in doubt: the next step looks its key up before sending again"
        return None


@dataclass(frozen=True)
class TransferPage:
    rows: list[TransferRow]
    total: int
    by_status: dict[str, int]
    paging: Paging  # over the transfers shown (of `status` when one is asked for)


def transfer_page(session: Session, status: str | None = None, page: int = 1) -> TransferPage:
    by_status = dict(
        session.execute(
            select(FundTransfer.status, func.count()).group_by(FundTransfer.status)
        ).all()
    )
    total = sum(by_status.values())
    paging = Paging(page, PAGE_SIZE, by_status.get(status, 0) if status is not None else total)
    query = (
        select(FundTransfer)
        .order_by(FundTransfer.created_at.desc(), FundTransfer.id)
        .offset(paging.offset)
        .limit(paging.size)
    )
    if status is not None:
        query = query.where(FundTransfer.status == status)
    transfers = list(session.scalars(query))
    ids = [str(t.id) for t in transfers]
    events: dict[str, list[Event]] = {i: [] for i in ids}
    if ids:
        for event in session.scalars(
            select(Event)
            .where(Event.entity_type == "fund_transfer", Event.entity_id.in_(ids))
            .order_by(Event.entity_id, Event.id)
        ):
            events[str(event.entity_id)].append(event)
    rows = [TransferRow(t, _steps(t, events[str(t.id)])) for t in transfers]
    return TransferPage(rows, total, by_status, paging)


def _steps(transfer: FundTransfer, events: list[Event]) -> list[Step]:
    """One step per change of status, from the events that record them."""
    entered: list[tuple[str, datetime, str]] = []
    for event in events:
        status = event.payload.get("status")
        if not status or (entered and entered[-1][0] == status):
            continue
        entered.append((str(status), event.occurred_at, str(event.payload.get("detail") or "")))
    if not entered:
        entered.append((TransferStatus.PENDING.value, transfer.created_at, ""))
    steps = []
    for (status, at, detail), following in itertools.zip_longest(entered, entered[1:]):
        settled = transfer.status not in ACTIVE_STATUSES and following is None
        end = following[1] if following is not None else None
        if settled:
            end = at
        steps.append(Step(status, at, (end - at) if end is not None else None, detail))
    return steps

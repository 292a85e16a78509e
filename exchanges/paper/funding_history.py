"""The funding settled on one paper account, read back from its ledger.

Each funding payment is a `funding` ledger row (booked at the funding time, see
`exchanges/simulation/replay.py`); the settlement row beside it holds the rate and mark it
was computed from, and the position it was paid on is the sum of the account's fills
strictly before the funding time (an order filled at exactly the funding time comes after
the settlement). So what this returns is what the venue actually paid or charged, to the
last digit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from core.enums import LedgerKind, OrderSide
from db.models.paper import (
    PaperAccount,
    PaperFill,
    PaperFundingSettlement,
    PaperLedgerEntry,
)
from exchanges.base import FundingPayment


def funding_payments(
    session: Session, venue: str, account: str, symbol: str | None, since: datetime
) -> list[FundingPayment]:
    """Payments booked on (venue, account) for `symbol` (None: every symbol) with funding
    time after `since`, oldest first."""
    account_id = session.scalar(
        select(PaperAccount.id).where(PaperAccount.venue == venue, PaperAccount.account == account)
    )
    if account_id is None:
        return []
    signed_qty = case((PaperFill.side == OrderSide.BUY.value, PaperFill.qty), else_=-PaperFill.qty)
    held = (
        select(func.coalesce(func.sum(signed_qty), 0))
        .where(
            PaperFill.account_id == account_id,
            PaperFill.symbol == PaperLedgerEntry.symbol,
            PaperFill.filled_at < PaperLedgerEntry.occurred_at,
        )
        .scalar_subquery()
    )
    query = (
        select(
            PaperLedgerEntry.symbol,
            PaperLedgerEntry.occurred_at,
            PaperLedgerEntry.amount,
            PaperFundingSettlement.rate,
            PaperFundingSettlement.mark_price,
            held,
        )
        .join(
            PaperFundingSettlement,
            and_(
                PaperFundingSettlement.venue == PaperLedgerEntry.venue,
                PaperFundingSettlement.symbol == PaperLedgerEntry.symbol,
                PaperFundingSettlement.funding_time == PaperLedgerEntry.occurred_at,
            ),
        )
        .where(
            PaperLedgerEntry.account_id == account_id,
            PaperLedgerEntry.kind == LedgerKind.FUNDING.value,
            PaperLedgerEntry.occurred_at > since,
        )
        .order_by(PaperLedgerEntry.occurred_at, PaperLedgerEntry.symbol)
    )
    if symbol is not None:
        query = query.where(PaperLedgerEntry.symbol == symbol)
    rows = session.execute(query)
    return [
        FundingPayment(
            venue=venue,
            symbol=row_symbol,
            funding_time=at,
            amount=amount,
            rate=rate,
            position_qty=qty,
            mark_price=mark,
        )
        for row_symbol, at, amount, rate, mark, qty in rows
    ]

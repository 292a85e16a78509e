"""Where the money is: venue balances, withdrawals in flight, our wallets, bridge and
deposit transfers in flight, and the fees paid — all read from the paper venue's and paper
network's own tables (not from `fund_transfers`), so they check the transfer logic.

With no trading, the total of these figures never changes: money only moves between them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from decimal import Decimal

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session

from core.enums import MovementState
from db.models.bridges import PaperBridgeTransfer, PaperChainTransfer, PaperWallet
from db.models.paper import PaperAccount, PaperTransfer, TransferDirection
from exchanges.bridges.wallets import unabsorbed_withdrawals

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class MoneyFigures:
    venue_balances: Decimal  # collateral of the venue accounts
    withdrawals_in_flight: Decimal  # accepted by a venue, not yet paid out (fee included)
    wallets: Decimal
    bridges_in_flight: Decimal
    deposits_in_flight: Decimal  # sent from a wallet, not yet credited by the venue
    withdrawal_fees: Decimal
    bridge_fees: Decimal

    @property
    def total(self) -> Decimal:
        return sum((getattr(self, f.name) for f in fields(self)), ZERO)

    def rows(self) -> list[tuple[str, Decimal]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self)] + [("total", self.total)]

    def describe(self) -> str:
        return "\n".join(f"{name:>22}: {value:,.6f}" for name, value in self.rows())


def _sum(session: Session, query: Select[Decimal | None]) -> Decimal:
    """A `SUM(...)` query's one value; SQL's sum of no rows is NULL, here 0."""
    return Decimal(session.execute(query).scalar_one() or 0)


def money_figures(
    session: Session, accounts: Sequence[tuple[str, str]] | None = None
) -> MoneyFigures:
    """The figures, for the given (venue, account) pairs (default: every paper account).

    Wallets, bridges and deposits are counted in full: they hold only transfer money.
    """
    account_filter = (
        tuple_(PaperAccount.venue, PaperAccount.account).in_(list(accounts))
        if accounts is not None
        else PaperAccount.id.isnot(None)
    )
    account_ids = select(PaperAccount.id).where(account_filter)
    withdrawals = (
        PaperTransfer.direction == TransferDirection.WITHDRAWAL.value,
        PaperTransfer.account_id.in_(account_ids),
    )
    completed = PaperTransfer.state == MovementState.COMPLETED.value
    return MoneyFigures(
        venue_balances=_sum(
            session, select(func.sum(PaperAccount.collateral)).where(account_filter)
        ),
        withdrawals_in_flight=_sum(
            session,
            # Pending: the whole amount is out (a failed one refunds the fee too).
            select(func.sum(PaperTransfer.amount)).where(
                *withdrawals, PaperTransfer.state == MovementState.PENDING.value
            ),
        ),
        # Completed withdrawals are on chain at our wallet address even before the wallet's
        # ledger books them (it does so when the wallet is next used).
        wallets=_sum(session, select(func.sum(PaperWallet.balance)))
        + _sum(
            session,
            select(func.sum(PaperTransfer.amount - PaperTransfer.fee)).where(
                *withdrawals, unabsorbed_withdrawals()
            ),
        ),
        bridges_in_flight=_sum(
            session,
            select(func.sum(PaperBridgeTransfer.amount)).where(
                PaperBridgeTransfer.state == MovementState.PENDING.value
            ),
        ),
        deposits_in_flight=_sum(
            session,
            select(func.sum(PaperChainTransfer.amount)).where(
                PaperChainTransfer.state == MovementState.PENDING.value
            ),
        ),
        withdrawal_fees=_sum(
            session, select(func.sum(PaperTransfer.fee)).where(*withdrawals, completed)
        ),
        bridge_fees=_sum(
            session,
            select(func.sum(PaperBridgeTransfer.fee)).where(
                PaperBridgeTransfer.state == MovementState.COMPLETED.value
            ),
        ),
    )

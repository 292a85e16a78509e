"""Status vocabularies shared by the domain and the database (CHECK constraints use them)."""

from __future__ import annotations

from enum import StrEnum


class PositionStatus(StrEnum):
    OPENING = "opening"  # orders being placed; not yet known to be hedged
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"
    FAILED = "failed"  # never opened; nothing left on any venue
    NEEDS_RECONCILE = "needs_reconcile"  # venue state unknown or unhedged: operator/reconciler


class PositionOperation(StrEnum):
    """The hedged operation an unfinished position is in the middle of (or was, when it
    went NEEDS_RECONCILE): what a restarted process must carry on with."""

    OPEN = "open"
    CLOSE = "close"
    REDUCE = "reduce"
    RECONCILE = "reconcile"  # venues disagreed with the position, or a reconcile was cut short


ACTIVE_POSITION_STATUSES = (
    PositionStatus.OPENING,
    PositionStatus.OPEN,
    PositionStatus.CLOSING,
    PositionStatus.NEEDS_RECONCILE,
)


class OrderSide(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class OrderStatus(StrEnum):
    INTENT = "intent"  # written before sending; no venue has seen it yet
    SENT = "sent"  # handed to the venue, outcome not yet recorded
    OPEN = "open"  # resting on the book
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    UNKNOWN = "unknown"  # timed out after sending: look the client id up before any resend


TERMINAL_ORDER_STATUSES = (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED)


class LedgerKind(StrEnum):
    """Why a simulated venue account's collateral changed (one ledger row each)."""

    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    WITHDRAWAL_FEE = "withdrawal_fee"
    WITHDRAWAL_REFUND = "withdrawal_refund"  # a failed withdrawal gives the money back
    TRADING_FEE = "trading_fee"  # negative for a maker rebate: amount is then positive
    REALIZED_PNL = "realized_pnl"
    FUNDING = "funding"
    LIQUIDATION_FEE = "liquidation_fee"


class Liquidity(StrEnum):
    """How a simulated fill happened."""

    MAKER = "maker"
    TAKER = "taker"
    LIQUIDATION = "liquidation"


class TransferStatus(StrEnum):
    PENDING = "pending"
    WITHDRAWING = "withdrawing"
    WITHDRAWN = "withdrawn"
    BRIDGING = "bridging"
    BRIDGED = "bridged"
    DEPOSITING = "depositing"
    COMPLETED = "completed"
    FAILED = "failed"
    NEEDS_RECONCILE = "needs_reconcile"
    CANCELLED = "cancelled"


class FundsLocation(StrEnum):
    """Where a transfer's money is right now: never unknown for a failed transfer."""

    SOURCE = "source"
    IN_FLIGHT_WITHDRAWAL = "in_flight_withdrawal"
    WALLET = "wallet"
    IN_FLIGHT_BRIDGE = "in_flight_bridge"
    IN_FLIGHT_DEPOSIT = "in_flight_deposit"
    DESTINATION = "destination"
    UNKNOWN = "unknown"


class MovementState(StrEnum):
    """Where one movement of money stands (a venue withdrawal or deposit, a bridge transfer,
    a send between addresses on one chain), as reported for its key."""

    PENDING = "pending"
    # A deposit sent on chain and confirmed there, not credited by the receiving venue yet.
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    FAILED = "failed"  # and the money went back to the sender


# What one party's own record of a movement holds (the paper venue's, bridges' and chain's
# rows); CONFIRMED only arises when a deposit's chain send and the venue's credit are combined.
PARTY_MOVEMENT_STATES = (MovementState.PENDING, MovementState.COMPLETED, MovementState.FAILED)
# What a transfer step still in flight last heard (`fund_transfers.external_state`).
IN_FLIGHT_MOVEMENT_STATES = (MovementState.PENDING, MovementState.CONFIRMED)


def sql_in(values: type[StrEnum] | tuple[StrEnum, ...]) -> str:
    """`'a', 'b'` for a CHECK constraint over the enum's values."""
    return ", ".join(f"'{v.value}'" for v in values)

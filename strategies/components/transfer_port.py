"""How a strategy asks for money to be moved between venues: the `TransferRequester` port.

`FundTransferManager` implements it in paper deployments (the runtime builds it). Where no
transfer can run — live mode has no wallet or bridge adapters, and a test or backtest kit
has no transfer network — the kits inject `TransfersUnavailable`, which refuses every
request with `TransfersUnavailableError`: the strategy then only records what should move,
for an operator.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from core.errors import PerpbotError

if TYPE_CHECKING:  # the record types still live with the transfer manager (issue 12 moves them)
    from strategies.implementations.funding_arbitrage.operations.transfer_types import (
        TransferRequestResult,
    )


class TransfersUnavailableError(PerpbotError):
    """This deployment cannot move money between venues; nothing was requested."""


class TransferRequester(Protocol):
    """What a strategy needs of the fund-transfer manager."""

    def request_transfer(
        self,
        from_venue: str,
        to_venue: str,
        amount: Decimal,
        *,
        from_account: str = "main",
        to_account: str = "main",
        reason: str | None = None,
        strategy_name: str | None = None,
    ) -> TransferRequestResult:
        """Start a transfer, or return the one in flight for the same route (idempotent)."""
        ...


class TransfersUnavailable:
    """A `TransferRequester` that refuses every request, saying why."""

    def __init__(self, why: str) -> None:
        self.why = why

    def request_transfer(
        self,
        from_venue: str,
        to_venue: str,
        amount: Decimal,
        *,
        from_account: str = "main",
        to_account: str = "main",
        reason: str | None = None,
        strategy_name: str | None = None,
    ) -> TransferRequestResult:
        raise TransfersUnavailableError(f"no transfer {from_venue} -> {to_venue}: {self.why}")

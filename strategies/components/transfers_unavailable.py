"""`UnavailableTransferManager`: the `TransferManager` of a deployment that cannot move money.

In live mode no live wallet or bridge adapters exist, so the runtime injects this instead of
the paper `FundTransferManager`: every call is refused with `TransfersUnavailableError`
saying why, nothing is stored and nothing moves. A strategy keeps recording its transfer
needs for an operator to act on.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from decimal import Decimal

from core.enums import FundsLocation, TransferStatus
from strategies.components.transfer_types import (
    StepOutcome,
    TransferRecord,
    TransferRequestResult,
    TransferStep,
    TransfersUnavailableError,
)

LIVE_MODE_REASON = (
    "live mode has no live wallet or bridge adapters, so fund transfers are refused "
    "(move the money by hand; the strategy records what it needs)"
)


class UnavailableTransferManager:
    """Implements `TransferManager` by refusing every call with the reason given."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def _refused(self) -> TransfersUnavailableError:
        return TransfersUnavailableError(f"fund transfers are unavailable: {self.reason}")

    def request_transfer(
        self,
        from_venue: str,
        to_venue: str,
        amount: Decimal,
        *,
        asset: str | None = None,
        from_account: str = "main",
        to_account: str = "main",
        reason: str | None = None,
        strategy_name: str | None = None,
        dedupe_key: str | None = None,
    ) -> TransferRequestResult:
        raise self._refused()

    def advance(self, step: TransferStep, transfer_id: uuid.UUID) -> StepOutcome:
        raise self._refused()

    def give_up(self, step: TransferStep, transfer_id: uuid.UUID, reason: str) -> StepOutcome:
        raise self._refused()

    def sweep(self) -> builtins.list[tuple[uuid.UUID, TransferStep]]:
        raise self._refused()

    def retry(self, transfer_id: uuid.UUID, note: str | None = None) -> TransferRecord:
        raise self._refused()

    def resolve(
        self,
        transfer_id: uuid.UUID,
        outcome: str,
        note: str,
        location: FundsLocation | None = None,
        chain: str | None = None,
        received: Decimal | None = None,
    ) -> TransferRecord:
        raise self._refused()

    def cancel(self, transfer_id: uuid.UUID, note: str | None = None) -> TransferRecord:
        raise self._refused()

    def get(self, transfer_id: uuid.UUID) -> TransferRecord:
        raise self._refused()

    def list(
        self, statuses: Sequence[TransferStatus] | None = None, limit: int = 50
    ) -> builtins.list[TransferRecord]:
        raise self._refused()

"""Injected transient failures shared by every process: the first N calls of an operation
for one key fail with a transient error before doing anything.

The count lives in PostgreSQL (`paper_fault_hits`), so "fail twice, then succeed" holds even
when the retries run in other worker processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert

from db.models.bridges import PaperFaultHit
from exchanges.base import ExchangeClient, MovementReceipt, TransientExchangeError


class TransientFaults:
    def __init__(self, engine: Engine, counts: Mapping[str, int]) -> None:
        self._engine = engine
        self._counts = dict(counts)

    def check(self, operation: str, key: str, who: str) -> None:
        """Raise `TransientExchangeError` if this call is one of the first N for the key."""
        limit = self._counts.get(operation, 0)
        if limit <= 0:
            return
        statement = (
            insert(PaperFaultHit)
            .values(operation=operation, key=key, hits=1)
            .on_conflict_do_update(
                index_elements=["operation", "key"], set_={"hits": PaperFaultHit.hits + 1}
            )
            .returning(PaperFaultHit.hits)
        )
        with self._engine.begin() as connection:
            hits = int(connection.execute(statement).scalar_one())
        if hits <= limit:
            raise TransientExchangeError(
                who, f"{operation}: injected transient failure {hits} of {limit}"
            )


class FlakyWithdrawals:
    """A venue whose first N withdrawal calls per key fail transiently (paper only)."""

    def __init__(self, venue: ExchangeClient, faults: TransientFaults) -> None:
        self._venue = venue
        self._faults = faults
        self.name = venue.name

    def withdraw(
        self, asset: str, amount: Decimal, address: str, chain: str, idempotency_key: str
    ) -> MovementReceipt:
        self._faults.check("withdraw", idempotency_key, self.name)
        return self._venue.withdraw(asset, amount, address, chain, idempotency_key)

    def get_withdrawal(self, idempotency_key: str) -> MovementReceipt | None:
        return self._venue.get_withdrawal(idempotency_key)

    def deposit_address(self, asset: str, chain: str) -> str:
        return self._venue.deposit_address(asset, chain)

    def get_deposit(self, reference: str) -> MovementReceipt | None:
        return self._venue.get_deposit(reference)

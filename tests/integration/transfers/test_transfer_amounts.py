"""Absurd amounts through the manager API: refused naming the amount and the limit, nothing
stored, no event, nothing enqueued. (The CLI: test_transfer_cli.py; a strategy's request:
tests/integration/funding_arbitrage/test_transfer_refusals.py.)"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Event, FundTransfer
from strategies.components.transfer_types import TransferRefusedError

BAD_AMOUNTS = [
    ("1e40", r"amount 1E\+40 USDC is above the transfer policy: at most 50000 USDC per transfer"),
    ("1E+999999999", r"amount 1E\+999999999 USDC is above .* at most 50000 USDC"),
    ("NaN", r"amount NaN is not a finite Decimal: a transfer moves 10 to 50000 USDC"),
    ("Infinity", r"amount Infinity is not a finite Decimal: a transfer moves 10 to 50000"),
    ("-Infinity", r"amount -Infinity is not a finite Decimal"),
    ("-5", r"amount -5 is not positive: a transfer moves 10 to 50000 USDC"),
    ("0", r"amount 0 is not positive"),
    ("100.1234567", r"amount 100.1234567 USDC has 7 decimal places, more than 6 decimals"),
]


def _rows(engine) -> tuple[int, int]:
    with Session(engine) as session:
        transfers = session.scalar(select(func.count()).select_from(FundTransfer))
        events = session.scalar(select(func.count()).select_from(Event))
    return int(transfers or 0), int(events or 0)


@pytest.mark.parametrize(("amount", "message"), BAD_AMOUNTS)
def test_an_absurd_amount_is_refused_and_nothing_is_stored(build, funded, amount, message):
    manager, dispatcher = build()
    with pytest.raises(TransferRefusedError, match=message):
        manager.request_transfer("hyperliquid", "lighter", Decimal(amount))
    with pytest.raises(TransferRefusedError, match=message):
        manager.request_transfer(
            "hyperliquid", "lighter", Decimal(amount), strategy_name="arb", dedupe_key="k"
        )
    assert _rows(funded) == (0, 0)
    assert not dispatcher.queue


def test_the_largest_allowed_amount_with_six_decimals_is_stored(build):
    manager, _ = build()
    result = manager.request_transfer("hyperliquid", "lighter", Decimal("49999.999999"))
    assert result.created and result.record.amount == Decimal("49999.999999")

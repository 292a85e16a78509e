"""A `TransferRecord` factory for unit tests of the pure transfer logic."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.enums import FundsLocation, TransferStatus
from strategies.components.transfer_types import TransferRecord

NOW = datetime(2026, 3, 2, tzinfo=UTC)


def record(**changes: Any) -> TransferRecord:
    base = TransferRecord(
        id=uuid.UUID("00000000-0000-0000-0000-000000000001"),
        strategy_name="arb",
        from_venue="hyperliquid",
        from_account="main",
        to_venue="lighter",
        to_account="main",
        asset="USDC",
        amount=Decimal(1000),
        fee=Decimal(0),
        withdrawal_fee=Decimal(0),
        bridge_fee=Decimal(0),
        received=None,
        status=TransferStatus.PENDING,
        funds_location=FundsLocation.SOURCE,
        funds_chain=None,
        reason=None,
        from_chain="arbitrum",
        to_chain="ethereum",
        bridge_protocol=None,
        destination_address="0xdest",
        withdrawal_ref=None,
        bridge_ref=None,
        deposit_ref=None,
        attempts=0,
        unconfirmed_sends=0,
        external_state=None,
        paused_status=None,
        dedupe_key="arb:hyperliquid/main->lighter/main:USDC",
        last_error=None,
        operator_note=None,
        next_check_at=NOW,
        completed_at=None,
        created_at=NOW,
        updated_at=NOW,
        version=1,
    )
    return replace(base, **changes)

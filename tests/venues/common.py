"""Checks every venue module uses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from core.clock import ManualClock
from exchanges.base import Capability, CapabilityNotSupportedError, ExchangeClient
from exchanges.ccxt_client import CcxtExchangeClient
from exchanges.venue_quirks import quirks_for

# Every capability a call exercises; withdrawal dedupe is a property of `withdraw`, which
# no ccxt venue has (tests/unit/transfers/test_withdrawal_dedupe_claims.py).
ALL = frozenset(Capability) - {Capability.WITHDRAWAL_KEY_DEDUPE}


def at(when: str) -> ManualClock:
    return ManualClock(datetime.fromisoformat(when))


def assert_refused(
    client: CcxtExchangeClient, capability: Capability, call: Callable[[], object]
) -> None:
    """The call fails naming the venue, the capability and the quirk table's reason."""
    reason = quirks_for(client.name).reason(capability)
    assert reason, f"{client.name}: {capability.value} has no reason to be refused"
    with pytest.raises(CapabilityNotSupportedError) as refused:
        call()
    message = str(refused.value)
    assert message.startswith(f"{client.name}: {capability.value} is refused")
    assert reason in message
    assert capability not in client.capabilities()


def refusal_calls(client: ExchangeClient) -> dict[Capability, Callable[[], object]]:
    """One call per capability, to show a refused one fails before any request."""
    from decimal import Decimal

    from core.enums import OrderSide, OrderType
    from exchanges.base import OrderRequest

    order = OrderRequest("refused-1", "BTC", OrderSide.BUY, OrderType.LIMIT, Decimal(1), Decimal(1))
    return {
        Capability.INSTRUMENTS: client.instruments,
        Capability.FUNDING_RATES: lambda: client.funding_rates(["BTC"]),
        Capability.ORDER_BOOK: lambda: client.top_of_book("BTC"),
        Capability.TRADING: lambda: client.place_order(order),
        Capability.CLIENT_ORDER_ID_LOOKUP: lambda: client.get_order("BTC", "refused-1"),
        Capability.CANCEL_ORDER: lambda: client.cancel_order("BTC", "refused-1"),
        Capability.POSITIONS: client.positions,
        Capability.BALANCE: client.balance,
        Capability.WITHDRAW: lambda: client.withdraw("USDC", Decimal(1), "0xabc", "chain", "w-1"),
        Capability.DEPOSIT_ADDRESS: lambda: client.deposit_address("USDC", "chain"),
        Capability.TRANSFER_STATUS: lambda: client.get_deposit("0xabc"),
    }

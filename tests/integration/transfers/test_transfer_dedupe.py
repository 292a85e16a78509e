"""Dedupe on real PostgreSQL: operator and strategy keys in separate namespaces, keys of the
old form still found while their transfer is in flight; and the paper venue's proof that it
keeps one withdrawal per key (what `idempotent_withdrawals: true` relies on)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from core.errors import ConfigError
from db.models import FundTransfer
from db.models.paper import PaperTransfer
from exchanges.base import Capability
from exchanges.bridges.paper_network import PaperNetwork
from exchanges.paper import PaperExchange
from strategies.components.sessions import engine_scope
from strategies.components.transfer_store import PostgresTransferStore
from strategies.components.transfer_types import TransferRefusedError
from strategies.implementations.funding_arbitrage.operations.bridge_manager import BridgeManager
from strategies.implementations.funding_arbitrage.operations.fund_transfer import (
    FundTransferManager,
)
from strategies.transfer_wiring import build_transfer_manager
from tests.integration.transfers.support import make_config
from tests.unit.transfers.ccxt_directory import CcxtVenues

ROUTE = "hyperliquid/main->extended/main:USDC"


def _store_key(engine: Engine, transfer_id: uuid.UUID, key: str) -> None:
    """Give a transfer the key a request made before the namespaces would have stored."""
    with Session(engine) as session, session.begin():
        session.execute(
            update(FundTransfer).where(FundTransfer.id == transfer_id).values(dedupe_key=key)
        )


def test_a_strategy_named_operator_and_the_operator_get_two_transfers(build):
    manager, _ = build()
    strategy = manager.request_transfer(
        "hyperliquid", "extended", Decimal(1000), strategy_name="operator"
    )
    operator = manager.request_transfer("hyperliquid", "extended", Decimal(1000))
    assert strategy.created and operator.created
    assert strategy.record.id != operator.record.id
    assert strategy.record.dedupe_key == f"strategy:operator:{ROUTE}"
    assert operator.record.dedupe_key == f"operator:{ROUTE}"
    # Each is still deduplicated against itself.
    again = manager.request_transfer(
        "hyperliquid", "extended", Decimal(1000), strategy_name="operator"
    )
    assert (again.created, again.record.id) == (False, strategy.record.id)
    assert not manager.request_transfer("hyperliquid", "extended", Decimal(50)).created


def test_a_transfer_stored_under_the_old_key_form_is_found_while_in_flight(build, funded):
    manager, _ = build()
    old = manager.request_transfer("hyperliquid", "extended", Decimal(1000), strategy_name="arb")
    _store_key(funded, old.record.id, f"arb:{ROUTE}")
    again = manager.request_transfer("hyperliquid", "extended", Decimal(1000), strategy_name="arb")
    assert (again.created, again.record.id) == (False, old.record.id)
    # Another requester's need is not that transfer.
    assert manager.request_transfer("hyperliquid", "extended", Decimal(1000)).created
    manager.cancel(old.record.id)
    fresh = manager.request_transfer("hyperliquid", "extended", Decimal(1000), strategy_name="arb")
    assert fresh.created and fresh.record.dedupe_key == f"strategy:arb:{ROUTE}"


def test_the_old_shared_key_refuses_the_operator_until_that_transfer_settles(build, funded):
    manager, _ = build()
    old = manager.request_transfer(
        "hyperliquid", "extended", Decimal(1000), strategy_name="operator"
    )
    _store_key(funded, old.record.id, f"operator:{ROUTE}")  # as both were keyed before
    with pytest.raises(TransferRefusedError) as error:
        manager.request_transfer("hyperliquid", "extended", Decimal(1000))
    assert f"held by transfer {old.record.id} of strategy 'operator'" in str(error.value)
    mine = manager.request_transfer(
        "hyperliquid", "extended", Decimal(1000), strategy_name="operator"
    )
    assert (mine.created, mine.record.id) == (False, old.record.id)
    manager.cancel(old.record.id)
    assert manager.request_transfer("hyperliquid", "extended", Decimal(1000)).created


def test_a_strategy_name_that_could_cross_namespaces_is_refused(build, funded):
    manager, _ = build()
    with pytest.raises(TransferRefusedError, match="without ':'"):
        manager.request_transfer(
            "hyperliquid", "extended", Decimal(1000), strategy_name="arb:hyperliquid"
        )
    with Session(funded) as session:
        assert session.scalar(select(func.count()).select_from(FundTransfer)) == 0


def test_the_paper_venue_declares_key_dedupe_and_keeps_one_withdrawal_per_key(funded, clock):
    venue = PaperExchange("hyperliquid", engine=funded, clock=clock)
    assert Capability.WITHDRAWAL_KEY_DEDUPE in venue.capabilities()
    before = venue.balance().available
    first = venue.withdraw("USDC", Decimal(400), "0xabc", "arbitrum", "dedupe-proof")
    clock.advance(timedelta(minutes=1))
    assert venue.withdraw("USDC", Decimal(400), "0xabc", "arbitrum", "dedupe-proof") == first
    assert venue.balance().available == before - Decimal(400)
    with Session(funded) as session:
        count = session.scalar(
            select(func.count())
            .select_from(PaperTransfer)
            .where(PaperTransfer.reference == "dedupe-proof")
        )
    assert count == 1


def test_the_shipped_config_claims_dedupe_only_for_venues_that_prove_it(funded, clock):
    build_transfer_manager(engine=funded, clock=clock)  # paper venues: accepted


def test_the_manager_refuses_a_dedupe_claim_its_venues_do_not_back(funded, clock):
    config = make_config()  # every venue: idempotent_withdrawals true
    with pytest.raises(ConfigError, match=r"routing\.venues\.extended\.idempotent_withdrawals"):
        FundTransferManager(
            store=PostgresTransferStore(engine_scope(funded), clock),
            venues=CcxtVenues(),
            network=PaperNetwork(funded, clock, {}),
            bridges=BridgeManager([]),
            routing=config.routing,
            clock=clock,
        )

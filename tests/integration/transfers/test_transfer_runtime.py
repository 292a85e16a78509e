"""The runtime builds the one transfer manager of a process: strategies get it injected, its
step dispatching is injected (none: the sweep starts every transfer), live mode gets one
that refuses."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from core.clock import ManualClock
from core.enums import TransferStatus as S
from core.errors import ConfigError
from core.settings import load_settings
from strategies.components.transfer_types import (
    TransferError,
    TransferRefusedError,
    TransferStep,
    TransfersUnavailableError,
)
from strategies.components.transfers_unavailable import UnavailableTransferManager
from strategies.factory import load_strategy_config
from strategies.implementations.funding_arbitrage.strategy import FundingArbitrageStrategy
from strategies.runtime import Runtime
from tests.integration.funding_arbitrage.conftest import base_config
from tests.integration.transfers.support import InlineDispatcher

NOW = datetime(2026, 3, 2, tzinfo=UTC)
PAPER = load_settings(PERPBOT_MODE="paper")
LIVE = load_settings(PERPBOT_MODE="live", PERPBOT_LIVE_CONFIRM=True)


def runtime(engine: Engine, **kwargs) -> Runtime:
    config = load_strategy_config(base_config())
    return Runtime(
        settings=PAPER,
        engine=engine,
        clock=ManualClock(NOW),
        configs={config.name: config},
        **kwargs,
    )


def test_strategies_get_the_runtimes_one_manager(clean_db):
    built = runtime(clean_db)
    manager = built.transfer_manager
    assert built.transfer_manager is manager
    first, second = built.build("arb"), built.build("arb")
    assert isinstance(first, FundingArbitrageStrategy)
    assert isinstance(second, FundingArbitrageStrategy)
    assert first.components.transfers is manager and second.components.transfers is manager


def test_without_a_dispatcher_a_request_is_due_now_and_left_to_the_sweep(clean_db):
    manager = runtime(clean_db).transfer_manager
    record = manager.request_transfer("hyperliquid", "lighter", Decimal(100)).record
    assert (record.status, record.next_check_at) == (S.PENDING, NOW)
    with pytest.raises(TransferError, match="the transfer sweep needs a step dispatcher"):
        manager.sweep()


def test_an_injected_dispatcher_gets_the_first_step_at_once(clean_db):
    dispatcher = InlineDispatcher()
    manager = runtime(clean_db, step_dispatcher=dispatcher).transfer_manager
    record = manager.request_transfer("hyperliquid", "lighter", Decimal(100)).record
    assert list(dispatcher.queue) == [(TransferStep.WITHDRAW, record.id)]
    assert record.next_check_at == NOW + timedelta(seconds=120)  # the sweep is the safety net


def test_a_dispatcher_given_later_is_used_if_the_manager_is_not_built_yet(clean_db):
    built = runtime(clean_db)
    dispatcher = InlineDispatcher()
    built.use_step_dispatcher(dispatcher)
    built.use_step_dispatcher(dispatcher)  # the same one again: nothing changes
    record = built.transfer_manager.request_transfer("hyperliquid", "lighter", Decimal(100))
    assert list(dispatcher.queue) == [(TransferStep.WITHDRAW, record.record.id)]
    with pytest.raises(ConfigError, match="already has its step dispatching"):
        built.use_step_dispatcher(InlineDispatcher())


def test_a_dispatcher_cannot_be_given_after_the_manager_was_built_without_one(clean_db):
    built = runtime(clean_db)
    assert built.transfer_manager is not None
    with pytest.raises(ConfigError, match="give the dispatcher when the runtime is made"):
        built.use_step_dispatcher(InlineDispatcher())


def test_in_live_mode_the_manager_refuses_every_request_saying_why():
    manager = Runtime(settings=LIVE, clock=ManualClock(NOW)).transfer_manager
    assert isinstance(manager, UnavailableTransferManager)
    with pytest.raises(TransfersUnavailableError, match="live mode has no live wallet or bridge"):
        manager.request_transfer("hyperliquid", "lighter", Decimal(100))
    assert issubclass(TransfersUnavailableError, TransferRefusedError)
    with pytest.raises(TransfersUnavailableError):
        manager.sweep()

"""Shared set-up for transfer tests: a config with paper venues on three chains, funded
accounts, an in-process dispatcher, and checks against the venue and network tables."""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core.clock import Clock
from db.models.bridges import PaperBridgeTransfer, PaperChainTransfer
from db.models.paper import PaperTransfer
from exchanges.bridges.accounting import MoneyFigures, money_figures
from exchanges.paper import PaperExchange
from exchanges.paper.transfers import deposit_address
from strategies.components.transfer_types import (
    StepOutcome,
    TransferStep,
    TransientTransferError,
)
from strategies.implementations.funding_arbitrage.operations.fund_transfer import (
    FundTransferManager,
)
from strategies.transfer_wiring import TransfersConfig, build_transfer_manager

# hyperliquid and extended share arbitrum; lighter is on ethereum; paradex on starknet.
VENUE_CHAINS = {
    "hyperliquid": "arbitrum",
    "extended": "arbitrum",
    "lighter": "ethereum",
    "paradex": "starknet",
}
WALLETS = {
    "arbitrum": "0x" + "a1" * 20,
    "ethereum": "0x" + "e1" * 20,
    "starknet": "0x" + "51" * 20,
}
START_BALANCE = Decimal(100_000)


def config_dict(
    *,
    withdrawal_delay_s: int = 0,
    confirm_s: int = 0,
    bridge_latency_s: int = 0,
    faults: dict[str, Any] | None = None,
    transient: dict[str, int] | None = None,
    policy: dict[str, Any] | None = None,
    bridge_failure: dict[str, float] | None = None,
) -> dict[str, Any]:
    allowlist: list[dict[str, Any]] = [
        {"chain": chain, "kind": "wallet", "address": address} for chain, address in WALLETS.items()
    ]
    allowlist += [
        {
            "chain": chain,
            "kind": "venue_deposit",
            "venue": venue,
            "account": "main",
            "address": deposit_address(venue, "main", chain),
        }
        for venue, chain in VENUE_CHAINS.items()
    ]
    venue_terms = {
        venue: {"withdrawal_delay_s": withdrawal_delay_s, "faults": faults or {}}
        for venue in VENUE_CHAINS
    }
    return {
        "routing": {
            "venues": {
                venue: {"chain": chain, "idempotent_withdrawals": True}
                for venue, chain in VENUE_CHAINS.items()
            },
            "allowlist": allowlist,
            "policy": {
                "poll_seconds": 5,
                "stuck_seconds": 30,
                "max_amount": "50000",
                "route_cap_24h": "1000000",
                **(policy or {}),
            },
        },
        "paper": {
            "deposit_confirm_seconds": confirm_s,
            "bridges": [
                {
                    "name": "slow_cheap",
                    "chains": ["arbitrum", "ethereum"],
                    "fee_fixed": "0",
                    "fee_rate": "0",
                    "latency_seconds": bridge_latency_s * 3,
                    "failure_rate": (bridge_failure or {}).get("slow_cheap", 0.0),
                },
                {
                    "name": "fast_dear",
                    "chains": ["arbitrum", "ethereum", "starknet"],
                    "fee_fixed": "0.5",
                    "fee_rate": "0.0004",
                    "latency_seconds": bridge_latency_s,
                    "failure_rate": (bridge_failure or {}).get("fast_dear", 0.0),
                },
            ],
            "venues": venue_terms,
            "transient_failures": transient or {},
        },
    }


def make_config(**kwargs: Any) -> TransfersConfig:
    return TransfersConfig.model_validate(config_dict(**kwargs))


def write_config(path: Path, **kwargs: Any) -> Path:
    path.write_text(yaml.safe_dump(config_dict(**kwargs)))
    return path


def fund_venues(engine: Engine, clock: Clock, amount: Decimal = START_BALANCE) -> None:
    for venue, chain in VENUE_CHAINS.items():
        exchange = PaperExchange(venue, engine=engine, clock=clock)
        exchange.credit_deposit(f"seed-{venue}", "USDC", amount, chain)


@dataclass
class InlineDispatcher:
    """Collects dispatched steps; `drain` runs them in this process (no Celery)."""

    queue: deque[tuple[TransferStep, uuid.UUID]] = field(default_factory=deque)

    def dispatch(self, step: TransferStep, transfer_id: uuid.UUID) -> None:
        self.queue.append((step, transfer_id))

    def drain(self, manager: FundTransferManager, limit: int = 100) -> list[StepOutcome]:
        outcomes = []
        while self.queue and limit > 0:
            limit -= 1
            step, transfer_id = self.queue.popleft()
            try:
                outcomes.append(manager.advance(step, transfer_id))
            except TransientTransferError:
                self.queue.append((step, transfer_id))
        return outcomes


def inline_manager(
    engine: Engine, clock: Clock, config: TransfersConfig
) -> tuple[FundTransferManager, InlineDispatcher]:
    dispatcher = InlineDispatcher()
    manager = build_transfer_manager(
        engine=engine, clock=clock, config=config, dispatcher=dispatcher
    )
    return manager, dispatcher


def figures(engine: Engine) -> MoneyFigures:
    with Session(engine) as session:
        return money_figures(session)


def side_effect_counts(engine: Engine, transfer_id: uuid.UUID) -> dict[str, int]:
    """Withdrawals, bridge sends, chain sends and venue deposits made for one transfer
    (failed ones excluded: their money came back)."""
    prefix = f"{transfer_id}:%"
    with Session(engine) as session:

        def count(model: Any, reference: Any, *where: Any) -> int:
            return int(
                session.scalar(
                    select(func.count()).select_from(model).where(reference.like(prefix), *where)
                )
                or 0
            )

        return {
            "withdrawals": count(
                PaperTransfer,
                PaperTransfer.reference,
                PaperTransfer.direction == "withdrawal",
                PaperTransfer.state != "failed",
            ),
            "bridge_sends": count(
                PaperBridgeTransfer, PaperBridgeTransfer.key, PaperBridgeTransfer.state != "failed"
            ),
            "chain_sends": count(PaperChainTransfer, PaperChainTransfer.key),
            "deposits": count(
                PaperTransfer, PaperTransfer.reference, PaperTransfer.direction == "deposit"
            ),
        }


class SweepDriver:
    """Sends the sweep task every `interval` seconds, as beat's `transfers-sweep` would."""

    def __init__(self, app: Any, interval: float = 0.2) -> None:
        import threading

        self._app = app
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from tasks.transfer_dispatch import TRANSFERS_QUEUE
        from tasks.transfer_tasks import SWEEP_TASK

        while not self._stop.wait(self._interval):
            try:
                self._app.send_task(SWEEP_TASK, queue=TRANSFERS_QUEUE)
            except Exception:  # the broker may be restarting (chaos): beat would retry too
                continue

    def __enter__(self) -> SweepDriver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def wait_final(manager: FundTransferManager, transfer_ids: list[uuid.UUID], timeout: float) -> None:
    import time

    from core.enums import TransferStatus

    final = {
        TransferStatus.COMPLETED,
        TransferStatus.FAILED,
        TransferStatus.NEEDS_RECONCILE,
        TransferStatus.CANCELLED,
    }
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = [t for t in transfer_ids if manager.get(t).status not in final]
        if not pending:
            return
        time.sleep(0.2)
    states = {str(t): manager.get(t).status.value for t in transfer_ids}
    raise AssertionError(f"transfers not final after {timeout}s: {states}")

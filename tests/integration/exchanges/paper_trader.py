"""A trading loop run in a separate process by the concurrency test (not a test itself).

Each process has its own clock (moving in uneven steps, so the processes' clocks disagree),
its own engine and connections, and trades the same paper account as the other process.
Some client order ids and withdrawal keys are shared by both processes on purpose.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from decimal import Decimal
from multiprocessing import Queue
from threading import Barrier

from sqlalchemy import create_engine, pool

from core.clock import ManualClock
from core.enums import OrderSide, OrderType
from exchanges.base import OrderRejectedError, OrderRequest, UnknownOutcomeError
from exchanges.paper import FaultConfig, PaperExchange, PaperVenueConfig

FAULTS = FaultConfig(seed=11, reject_rate=0.1, timeout_after_fill_rate=0.25, max_latency_ms=4)


def trade(
    database_url: str,
    name: str,
    start: str,
    iterations: int,
    seed: int,
    out: Queue,
    go: Barrier,
) -> None:
    engine = create_engine(database_url, poolclass=pool.NullPool)
    clock = ManualClock(datetime.fromisoformat(start))
    venue = PaperExchange(
        "hyperliquid",
        engine=engine,
        clock=clock,
        account="shared",
        config=PaperVenueConfig(faults=FAULTS, withdrawal_delay_s=1800),
    )
    rng = random.Random(seed)
    placed: dict[str, tuple[str, str]] = {}
    rejected: list[str] = []
    withdrawals: list[str] = []
    go.wait(timeout=120)  # both processes start trading together
    began = time.time()
    for i in range(iterations):
        clock.advance(timedelta(minutes=rng.choice([3, 7, 11, 13])))
        # Every third order id is shared with the other process: one order, never two.
        cid = f"both-{i}" if i % 3 == 0 else f"{name}-{i}"
        side = OrderSide.BUY if (i % 3 == 0 or rng.random() < 0.5) else OrderSide.SELL
        qty = "0.05" if i % 3 == 0 else rng.choice(["0.01", "0.02", "0.03"])
        request = OrderRequest(cid, "ETH", side, OrderType.MARKET, Decimal(qty))
        try:
            venue.place_order(request)
            placed[cid] = (side.value, qty)
        except UnknownOutcomeError:
            found = venue.get_order("ETH", cid)
            if found is None:
                raise AssertionError(f"{cid}: timed out but the venue does not know it") from None
            placed[cid] = (side.value, qty)
        except OrderRejectedError:
            rejected.append(cid)
        if i % 5 == 0:
            key = f"w-{i // 5}"  # the same keys in both processes
            venue.withdraw("USDC", Decimal(5), "0xfeed", "arbitrum", key)
            withdrawals.append(key)
        if i % 7 == 0:
            venue.settle()
    engine.dispose()
    out.put(
        {
            "name": name,
            "placed": placed,
            "rejected": rejected,
            "withdrawals": withdrawals,
            "span": (began, time.time()),
        }
    )

"""The production Celery app, for the naked-leg chaos test's workers (`-A tests.chaos.arb_app`).

One thing differs from production: the opening (not reduce-only) orders sent to the venue
named by `PERPBOT_CHAOS_SLOW_VENUE` wait `PERPBOT_CHAOS_SLOW_SECONDS` before they reach it,
after leaving a marker file (`<pid>__<client order id>`) in `PERPBOT_CHAOS_MARKERS`. The other
leg, sent at the same time, fills at once: the test sees the marker and SIGKILLs that pool
process between the two legs. The venues themselves are the real paper venues in PostgreSQL.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import strategies.runtime as runtime_module
from exchanges.base import ExchangeClient, OrderRequest
from strategies.runtime import Runtime, VenueAccount
from tasks import app


class SlowOpeningOrders:
    """A venue client whose opening orders reach the venue late (everything else as is)."""

    def __init__(self, inner: ExchangeClient, markers: Path, seconds: float) -> None:
        self._inner = inner
        self._markers = markers
        self._seconds = seconds

    def place_order(self, request: OrderRequest) -> Any:
        if not request.reduce_only:
            marker = self._markers / f"{os.getpid()}__{request.client_order_id}"
            marker.write_text(str(time.time()))
            time.sleep(self._seconds)  # the window between the legs
        return self._inner.place_order(request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class ChaosRuntime(Runtime):
    def _build_client(self, key: VenueAccount) -> ExchangeClient:
        client = super()._build_client(key)
        if key.venue != os.environ.get("PERPBOT_CHAOS_SLOW_VENUE"):
            return client
        markers = Path(os.environ["PERPBOT_CHAOS_MARKERS"])
        seconds = float(os.environ.get("PERPBOT_CHAOS_SLOW_SECONDS", "1.5"))
        return SlowOpeningOrders(client, markers, seconds)  # type: ignore[return-value]


runtime_module._runtime = ChaosRuntime()

__all__ = ["app"]

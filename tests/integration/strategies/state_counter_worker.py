"""Child process for the no-lost-update test: increments a counter through `update`.

Usage: python -m tests.integration.strategies.state_counter_worker NAME COUNT GATE_FILE

Prints "ready" once connected, waits for GATE_FILE to exist (so both children start
together), increments NAME's counter COUNT times and prints how many attempts it took.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from core.clock import SystemClock
from db.engine import get_engine
from strategies.components.sessions import engine_scope
from strategies.components.state_manager import PostgresStateManager


def main(name: str, count: int, gate: Path) -> None:
    engine = get_engine()  # DATABASE_URL from the parent test run: its own connections
    with engine.connect():
        pass
    manager = PostgresStateManager(engine_scope(engine), SystemClock())
    attempts = 0

    def increment(state: dict[str, Any]) -> dict[str, Any]:
        nonlocal attempts
        attempts += 1
        return {**state, "n": state.get("n", 0) + 1}

    print("ready", flush=True)
    deadline = time.monotonic() + 30
    while not gate.exists():
        if time.monotonic() > deadline:
            raise SystemExit("gate never opened")
        time.sleep(0.005)
    for _ in range(count):
        manager.update(name, increment, retries=1000)
    print(f"attempts={attempts}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))

"""How the two legs of a hedged operation run: at the same time, or one after the other.

Hedged execution hands both legs' work to a `LegRunner`; which one it gets is chosen by the
composition root (the kits in `kits.py`), never by the strategy:

- `ThreadedLegRunner`: each leg in its own thread, so neither venue waits for the other
  (live and paper trading, on a real or scaled clock);
- `SequentialLegRunner`: one leg, then the other, in a fixed order. Under a simulated clock
  (`ManualClock`: it moves only when code waits on it) two threads waiting at once would
  each move the shared clock and interleave by chance; one after the other keeps a
  backtest deterministic, at the price of adding the legs' waits instead of overlapping them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar

K = TypeVar("K")
T = TypeVar("T")


class LegRunner(Protocol):
    """Runs one callable per key and returns their results by key (an error propagates)."""

    def run(self, work: Mapping[K, Callable[[], T]]) -> dict[K, T]: ...


class ThreadedLegRunner:
    """Every callable in its own thread; results (or the first error, in key order)."""

    def run(self, work: Mapping[K, Callable[[], T]]) -> dict[K, T]:
        with ThreadPoolExecutor(max_workers=max(len(work), 1), thread_name_prefix="leg") as pool:
            futures = {key: pool.submit(call) for key, call in work.items()}
            return {key: future.result() for key, future in futures.items()}


class SequentialLegRunner:
    """The callables one after the other, in key order."""

    def run(self, work: Mapping[K, Callable[[], T]]) -> dict[K, T]:
        return {key: call() for key, call in work.items()}

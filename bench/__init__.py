"""Benchmarks (not tests). `python -m bench` runs every `bench/bench_*.py` module's `run()`.

A module's `run() -> dict` returns at least `rows` (a list of flat dicts, one table row
each); optionally `name`, `title`, `target` (what "fast enough" means) and `met` (bool).
Helpers here are shared by the benchmark modules.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The `fraction` quantile (0..1) of `samples`, nearest-rank."""
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def repeat_timed(call: Callable[[], object], samples: int) -> list[float]:
    """`call` once to warm up, then `samples` timed calls: their durations in seconds."""
    call()
    durations = []
    for _ in range(samples):
        start = time.perf_counter()
        call()
        durations.append(time.perf_counter() - start)
    return durations


def summary_ms(samples_s: Sequence[float]) -> dict[str, float]:
    """p50/p99/mean of durations given in seconds, in milliseconds."""
    ms = [s * 1000 for s in samples_s]
    return {
        "p50_ms": round(percentile(ms, 0.50), 3),
        "p99_ms": round(percentile(ms, 0.99), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }


@contextmanager
def scratch_database() -> Iterator[str]:
    """A throwaway database on the configured server, migrated to head, dropped after."""
    from sqlalchemy.engine import make_url

    from core.services import drop_database, ensure_database, ensure_services
    from db.engine import engine_for
    from db.migrate import upgrade

    base = make_url(ensure_services(announce=False).postgres.url)
    url = base.set(database=f"perpbot_bench_{uuid.uuid4().hex[:8]}")
    rendered = url.render_as_string(hide_password=False)
    ensure_database(rendered)
    try:
        upgrade(rendered)
        yield rendered
    finally:
        engine_for(rendered).dispose()
        drop_database(rendered)

"""Advisory locks: one holder per strategy, released on exit and on process death."""

import signal
import subprocess
import sys

from db.locks import strategy_lock
from tests.support.environment import paper_env
from tests.support.waiting import wait_until


def _is_free(engine, name: str) -> bool:
    with strategy_lock(engine, name) as free:
        return free


def test_second_holder_is_refused_until_the_first_releases(engine):
    with strategy_lock(engine, "arb-1") as first:
        assert first is True
        with strategy_lock(engine, "arb-1") as second:
            assert second is False
        with strategy_lock(engine, "grid-1") as other:
            assert other is True  # other strategies are not blocked
    with strategy_lock(engine, "arb-1") as again:
        assert again is True


def test_lock_is_released_when_the_holding_process_dies(engine, database_url):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time\n"
                "from db.engine import engine_for\n"
                "from db.locks import strategy_lock\n"
                f"with strategy_lock(engine_for({database_url!r}), 'crashy') as ok:\n"
                "    print(ok, flush=True)\n"
                "    time.sleep(60)\n"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=paper_env(),
    )
    try:
        assert holder.stdout.readline().strip() == "True"
        with strategy_lock(engine, "crashy") as taken:
            assert taken is False
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        wait_until(
            lambda: _is_free(engine, "crashy"),
            timeout=10,
            message="lock not released after the holder died",
        )
    finally:
        holder.kill()

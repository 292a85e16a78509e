"""Two processes, two connections, one strategy state: no update is lost."""

from __future__ import annotations

import subprocess
import sys

from core.clock import SystemClock
from core.settings import PROJECT_ROOT
from strategies.components.sessions import engine_scope
from strategies.components.state_manager import PostgresStateManager

PER_PROCESS = 150


def test_two_processes_incrementing_the_same_state_lose_no_update(clean_db, tmp_path):
    gate = tmp_path / "go"
    command = [
        sys.executable,
        "-m",
        "tests.integration.strategies.state_counter_worker",
        "shared-counter",
        str(PER_PROCESS),
        str(gate),
    ]
    children = [
        subprocess.Popen(
            command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
        gate.touch()  # both are connected: start them together
        outputs = [child.communicate(timeout=120) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err

    attempts = sum(int(out.strip().rsplit("=", 1)[1]) for out, _ in outputs)
    state = PostgresStateManager(engine_scope(clean_db), SystemClock()).load("shared-counter")
    assert state.data == {"n": 2 * PER_PROCESS}
    assert state.version == 2 * PER_PROCESS
    # The writers really did collide (and retried): otherwise this proved nothing.
    assert attempts > 2 * PER_PROCESS

"""Start and stop real Celery worker processes for tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.settings import PROJECT_ROOT
from tests.support.environment import paper_env

CELERY = str(Path(sys.executable).with_name("celery"))


@contextmanager
def celery_worker(
    queues: str = "default,market,strategy,transfers",
    concurrency: int = 1,
    app: str = "tests.support.celery_app",
    env: dict[str, str] | None = None,
    log_path: Path | None = None,
    ready_timeout: float = 60.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `celery worker` as a child process until the block ends; wait until it is ready."""
    name = f"test-{uuid.uuid4().hex[:8]}@%h"
    full_env = paper_env(env)
    log_path = log_path or Path(f"/tmp/perpbot-worker-{uuid.uuid4().hex[:8]}.log")
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                CELERY,
                "-A",
                app,
                "worker",
                "-Q",
                queues,
                "-c",
                str(concurrency),
                "-n",
                name,
                "--pool",
                "prefork",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "INFO",
            ],
            cwd=PROJECT_ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: tests can kill worker + pool
        )
    try:
        _wait_ready(log_path, proc, ready_timeout)
        yield proc
    finally:
        stop_process(proc)


def _wait_ready(log_path: Path, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited early:\n{log_path.read_text()[-3000:]}")
        if "ready." in log_path.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise TimeoutError(f"worker not ready after {timeout}s:\n{log_path.read_text()[-3000:]}")


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    kill_group(proc)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and everything in its group (a crashed machine, as it were)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return
    proc.wait(timeout=10)


def pool_children(pid: int) -> list[int]:
    import psutil

    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


@contextmanager
def celery_beat(
    app: str = "tests.support.celery_app",
    env: dict[str, str] | None = None,
    schedule_dir: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `celery beat` (with perpbot's scheduler) as a child process until the block ends."""
    full_env = paper_env(env)
    schedule_dir = schedule_dir or Path(f"/tmp/perpbot-beat-{uuid.uuid4().hex[:8]}")
    schedule_dir.mkdir(parents=True, exist_ok=True)
    log_path = schedule_dir / "beat.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [CELERY, "-A", app, "beat", "-s", str(schedule_dir / "schedule"), "-l", "INFO"],
            cwd=PROJECT_ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        stop_process(proc)

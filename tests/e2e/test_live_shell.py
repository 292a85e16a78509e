"""`make test` in an operator's shell that holds live variables still builds only paper
clients: a nested test run started with live mode, the confirmation and a venue's
credentials in its environment checks itself and a worker it starts."""

import os
import subprocess
import sys

import pytest

from core.settings import LIVE_CONFIRM_PHRASE, PROJECT_ROOT

pytestmark = pytest.mark.slow


def test_a_test_run_in_a_live_shell_builds_only_paper_clients():
    live_shell = {
        **os.environ,
        "PERPBOT_MODE": "live",
        "PERPBOT_LIVE_CONFIRM": LIVE_CONFIRM_PHRASE,
        "PERPBOT_HYPERLIQUID_PRIVATE_KEY": "0x" + "11" * 32,
        "PERPBOT_HYPERLIQUID_WALLET_ADDRESS": "0x" + "22" * 20,
    }
    # The nested run makes its own database and broker prefix, as any test run does.
    for name in ("DATABASE_URL", "PERPBOT_BROKER_PREFIX"):
        live_shell.pop(name, None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/support/live_shell_check.py",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:cov",
        ],
        cwd=PROJECT_ROOT,
        env=live_shell,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "1 passed" in result.stdout

from __future__ import annotations

import pytest

from core.settings import PROJECT_ROOT, get_settings
from strategies.runtime import reset_runtime
from tests.support.dashboard_data import run_phase_tasks, trade_demo_strategies, truncate_all

OPERATOR = ("op", "operator-password-1")
VIEWER = ("watcher", "viewer-password-1")


@pytest.fixture(scope="module")
def traded(engine):
    """The demo's strategies traded for some hours; dashboard users; cleaned up after."""
    mp = pytest.MonkeyPatch()
    mp.setenv("PERPBOT_STRATEGIES", str(PROJECT_ROOT / "configs" / "demo"))
    get_settings.cache_clear()
    reset_runtime()
    truncate_all(engine)
    trade_demo_strategies(engine)
    run_phase_tasks()
    from dashboard.auth import Authenticator

    auth = Authenticator(engine)
    auth.put_user(OPERATOR[0], "operator", OPERATOR[1])
    auth.put_user(VIEWER[0], "viewer", VIEWER[1])
    yield engine
    truncate_all(engine)
    mp.undo()
    get_settings.cache_clear()
    reset_runtime()

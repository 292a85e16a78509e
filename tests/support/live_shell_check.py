"""Run by `tests/e2e/test_live_shell.py` as a nested test run, in a shell whose environment
says live (mode, confirmation, a venue's credentials): everything this run builds or starts
must still be paper. Not collected by the suite itself (its name is not `test_*.py`)."""

import os

from core.settings import get_settings
from exchanges.paper import PaperExchange
from exchanges.registry import build_exchange, is_live_variable
from tests.support.celery_app import app
from tests.support.workers import celery_worker


def test_this_run_and_the_worker_it_starts_are_paper_only(engine):
    assert os.environ["PERPBOT_MODE"] == "paper"
    assert [name for name in os.environ if is_live_variable(name)] == []
    assert get_settings().deployment_mode == "paper"
    assert isinstance(build_exchange("hyperliquid", engine=engine), PaperExchange)
    with celery_worker(queues="default"):
        answer = app.send_task("perpbot.test.venue_client", args=("hyperliquid",)).get(60)
    assert answer == {"mode": "paper", "client": "PaperExchange", "live_variables": []}

"""The database records whether it is paper or live; a process in the other mode refuses it.

Live processes here hold the confirmation but no venue credentials, so even a missing check
could not reach a real venue: they must stop at the check, naming both modes.
"""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

from core.services import drop_database, ensure_database
from core.settings import LIVE_CONFIRM_PHRASE, PROJECT_ROOT, load_settings
from db.deployment import DeploymentModeError, recorded_mode
from db.migrate import upgrade
from strategies.runtime import Runtime
from tests.support.environment import paper_env
from tests.support.workers import CELERY

pytestmark = pytest.mark.slow

LIVE = {"PERPBOT_MODE": "live", "PERPBOT_LIVE_CONFIRM": LIVE_CONFIRM_PHRASE}
LIVE_SETTINGS = load_settings(PERPBOT_MODE="live", PERPBOT_LIVE_CONFIRM=LIVE_CONFIRM_PHRASE)
PAPER_DB_REFUSED = "is a paper database and {} runs live: refusing to start"
LIVE_DB_REFUSED = "is a live database and {} runs paper: refusing to start"


@pytest.fixture
def new_database(server_url):
    made = []

    def make(mode: str | None, prefix: str = "perpbot_mode") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
        ensure_database(url)
        if mode is not None:
            upgrade(url, mode=mode)
        made.append(url)
        return url

    yield make
    for url in made:
        drop_database(url)


def _mode_of(url: str) -> str | None:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return recorded_mode(connection)
    finally:
        engine.dispose()


def _live_env(url: str) -> dict[str, str]:
    """A live process's environment (the test suite strips these everywhere else)."""
    return {**paper_env({"DATABASE_URL": url}), **LIVE}


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_first_migration_records_the_migrating_process_mode(new_database, database_url):
    assert _mode_of(new_database("paper")) == "paper"
    assert _mode_of(new_database("live")) == "live"
    assert _mode_of(database_url) == "paper"  # the suite's own, migrated by a paper run


def test_a_live_runtime_refuses_a_paper_database_naming_both(new_database):
    url = new_database("paper")
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with pytest.raises(DeploymentModeError, match=PAPER_DB_REFUSED.format("this process")):
            Runtime(settings=LIVE_SETTINGS, engine=engine).engine  # noqa: B018
    finally:
        engine.dispose()


@pytest.mark.parametrize("process", ["worker", "beat"])
def test_a_worker_or_beat_in_the_other_mode_refuses_to_start(new_database, tmp_path, process):
    live_db, paper_db = new_database("live"), new_database("paper")
    args = ["worker", "-Q", "default", "-c", "1", "--without-gossip", "--without-mingle"]
    if process == "beat":
        args = ["beat", "-s", str(tmp_path / "schedule")]
    command = [CELERY, "-A", "tests.support.celery_app", *args]
    paper = _run(command, paper_env({"DATABASE_URL": live_db}))
    live = _run(command, _live_env(paper_db))
    for result, refusal in ((paper, LIVE_DB_REFUSED), (live, PAPER_DB_REFUSED)):
        assert result.returncode != 0
        assert f"perpbot {process} refuses to start" in result.stderr
        assert refusal.format(f"this {process}") in result.stderr


def test_a_worker_refuses_a_database_that_records_no_mode(new_database):
    command = [CELERY, "-A", "tests.support.celery_app", "worker", "-Q", "default"]
    result = _run(command, paper_env({"DATABASE_URL": new_database(None)}))
    assert result.returncode != 0
    assert "records no mode (not migrated to 0009_deployment_mode)" in result.stderr


def test_cli_commands_that_trade_refuse_the_other_mode(new_database, tmp_path):
    live_db, paper_db = new_database("live"), new_database("paper")
    config = PROJECT_ROOT / "configs" / "demo" / "grid.yaml"
    cli = [sys.executable, "trading_bot.py"]
    strategies = {"PERPBOT_STRATEGIES": str(config)}
    cases = [
        (["run", str(config), "--cycles", "1"], paper_env({"DATABASE_URL": live_db}), "paper"),
        (["rebalance", "grid-demo"], paper_env({"DATABASE_URL": live_db, **strategies}), "paper"),
        (["pause", "grid-demo"], {**_live_env(paper_db), **strategies}, "live"),
        (["migrate"], {**_live_env(paper_db), "PERPBOT_RUN_DIR": str(tmp_path)}, "live"),
    ]
    for args, env, mode in cases:
        result = _run(cli + args, env)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        other = "live" if mode == "paper" else "paper"
        assert f"is a {other} database and " in result.stderr, args
        assert f" runs {mode}: refusing to start" in result.stderr, args


def test_the_demo_never_drops_or_uses_a_live_database(new_database):
    # A name the demo would otherwise drop (its prefix), so only the mode check stops it.
    live_db = new_database("live", prefix="perpbot_demo_mode")
    name = make_url(live_db).database
    result = _run(
        [sys.executable, "trading_bot.py", "demo", "--database", name, "--flower-port", "0"],
        paper_env({"DEMO_SECONDS": "10"}),
    )
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert LIVE_DB_REFUSED.format("the demo") in result.stderr
    assert _mode_of(live_db) == "live"  # still there, untouched


def test_the_demo_drops_only_a_database_it_could_have_created(new_database):
    # Issue 15: `demo --database NAME` ran DROP DATABASE ... WITH (FORCE) on any name. Now a
    # name without the demo's prefix is refused before any server is touched.
    other = new_database("paper")
    name = make_url(other).database
    assert not name.startswith("perpbot_demo")
    result = _run(
        [sys.executable, "trading_bot.py", "demo", "--database", name, "--flower-port", "0"],
        paper_env({"DEMO_SECONDS": "10"}),
    )
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"--database '{name}'" in result.stderr
    assert "must start with 'perpbot_demo'" in result.stderr
    assert _mode_of(other) == "paper"  # still there, migrated, untouched

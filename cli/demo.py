"""`make demo` / `trading_bot.py demo`: the whole system on paper venues, accelerated.

From a fresh clone: find or start PostgreSQL and Redis (embedded if none), create a fresh demo
database and migrate it, generate a seeded market scenario for the demo strategies' venues and
symbols, fund their paper accounts, start a Celery worker, beat, Flower and the dashboard, and
show live progress until `DEMO_SECONDS` (or Ctrl-C). Every process it started is stopped, and
a summary is printed (and written to `.run/demo/summary.json`).

The clock is shared by every process through the environment: simulated time runs `speed`
times faster than real time (3600: one real second is one simulated hour), so hourly funding
settles every second.

`DEMO_DATA=real` (or `--data real`) replays real history instead of a generated scenario:
the sample's Binance, Bybit and Hyperliquid settlements of BTC, ETH and SOL
(`data/sample/funding-history/`, loaded as a backtest loads it) from `DEMO_FROM` (default
2025-10-10) become the paper venues' market (`backtest.paper_replay`), the clock starts at
that time, and `configs/demo-real/` trades them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import typer

from cli.common import console, one_line_errors
from cli.demo_summary import render_summary, summary
from cli.flower import CELERY, flower_command, flower_environment, flower_password
from core.errors import ConfigError
from core.settings import PROJECT_ROOT

DEMO_CONFIGS = PROJECT_ROOT / "configs" / "demo"
REAL_CONFIGS = PROJECT_ROOT / "configs" / "demo-real"
REAL_HISTORY = PROJECT_ROOT / "data" / "sample" / "funding-history"
DATA_MODES = ("scenario", "real")
DEFAULT_REAL_FROM = "2025-10-10"


@dataclass
class Managed:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path


@dataclass
class DemoPlan:
    database_url: str
    redis_url: str
    run_dir: Path
    env: dict[str, str]
    flower_url: str | None
    flower_user: str
    flower_password: str
    flower_password_shown: str  # a configured password is never printed
    dashboard_user: str
    dashboard_password: str
    dashboard_url: str | None = None
    processes: list[Managed] = field(default_factory=list)


def _demo_env(
    database_url: str, redis_url: str, speed: float, origin: datetime, configs: Path
) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PERPBOT_MODE": "paper",
        "PERPBOT_STRATEGIES": str(configs),
        "PERPBOT_BROKER_PREFIX": f"demo-{uuid.uuid4().hex[:6]}:",
        "PERPBOT_CLOCK_ORIGIN": origin.isoformat(),
        "PERPBOT_CLOCK_SPEED": str(speed),
        "PERPBOT_CLOCK_REAL_START": repr(time.time()),
        "PERPBOT_FUNDING_COLLECT_SECONDS": "2",
        "PERPBOT_TRANSFERS_SWEEP_SECONDS": "5",
    }


def _children_env(plan: DemoPlan) -> dict[str, str]:
    """The demo's processes trade on paper whatever this shell holds (no live switch, no
    venue credentials)."""
    from exchanges.registry import paper_environment

    return paper_environment({**os.environ, **plan.env})


def _apply_env(env: dict[str, str]) -> None:
    """Point this process (the dashboard, the seeding) at the demo too, on paper only."""
    from core.settings import get_settings
    from exchanges.registry import paper_environment
    from strategies.runtime import reset_runtime

    paper = paper_environment({**os.environ, **env})
    for name in [n for n in os.environ if n not in paper]:
        del os.environ[name]
    os.environ.update(paper)
    get_settings.cache_clear()
    reset_runtime()


DEMO_DATABASE_PREFIX = "perpbot_demo"


def check_demo_database_name(database: str) -> None:
    """The demo drops its database before each run, so it only takes a name it could have
    created: one that starts with `perpbot_demo`. Anything else is refused before any server
    is touched (a typo must never drop the operator's real database)."""
    if not database.startswith(DEMO_DATABASE_PREFIX):
        raise ConfigError(
            f"--database {database!r}: the demo drops and recreates its database, so the name "
            f"must start with {DEMO_DATABASE_PREFIX!r} (e.g. {DEMO_DATABASE_PREFIX}_mine); "
            "it never drops any other database"
        )


def real_start(text: str) -> datetime:
    """`DEMO_FROM` as a UTC hour, inside the sample."""
    try:
        start = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"DEMO_FROM {text!r} is not a date (YYYY-MM-DD)") from exc
    start = start.replace(tzinfo=start.tzinfo or UTC).astimezone(UTC)
    return start.replace(minute=0, second=0, microsecond=0)


def prepare(
    seed: int,
    speed: float,
    seconds: int,
    database: str,
    data: str = "scenario",
    real_from: datetime | None = None,
) -> DemoPlan:
    """Services, a fresh migrated demo database, a market (a scenario or real history),
    funded accounts."""
    if data not in DATA_MODES:
        raise typer.BadParameter(f"DEMO_DATA must be one of {', '.join(DATA_MODES)}, not {data!r}")
    from sqlalchemy.engine import make_url

    from core.services import drop_database, ensure_database, ensure_services
    from db.migrate import upgrade

    check_demo_database_name(database)
    services = ensure_services()
    demo_url = make_url(services.postgres.url).set(database=database)
    database_url = demo_url.render_as_string(hide_password=False)
    _refuse_a_live_database(database_url)
    drop_database(database_url)
    ensure_database(database_url)
    upgrade(database_url, mode="paper")

    real = data == "real"
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    origin = (real_from or real_start(DEFAULT_REAL_FROM)) if real else now
    password, shown = flower_password(os.environ.get("FLOWER_PASSWORD"))
    configs = REAL_CONFIGS if real else DEMO_CONFIGS
    env = _demo_env(database_url, services.redis.url, speed, origin, configs)
    _apply_env(env)
    run_dir = PROJECT_ROOT / ".run" / "demo"
    run_dir.mkdir(parents=True, exist_ok=True)
    hours = seconds * speed / 3600 + 48
    if real:
        _seed_history(origin, hours)
        _fund_accounts()
    else:
        _seed_market(seed, origin, hours=hours)
        _fund_accounts(overrides=SHORT_ACCOUNTS)
    user = os.environ.get("FLOWER_USER", "perpbot")
    dashboard_password = _dashboard_user()
    return DemoPlan(
        database_url,
        services.redis.url,
        run_dir,
        env,
        None,
        user,
        password,
        shown,
        DASHBOARD_USER,
        dashboard_password,
    )


DASHBOARD_USER = "operator"


def _dashboard_user() -> str:
    """The demo database's dashboard operator, with a generated password (stored hashed)."""
    from dashboard.auth import Authenticator, generate_password
    from strategies.runtime import get_runtime

    password = os.environ.get("PERPBOT_DEMO_DASHBOARD_PASSWORD") or generate_password()
    Authenticator(get_runtime().engine).put_user(DASHBOARD_USER, "operator", password)
    return password


def _refuse_a_live_database(database_url: str) -> None:
    """The demo is paper: a database that records live trading is never dropped nor used."""
    from sqlalchemy import create_engine, pool
    from sqlalchemy.exc import OperationalError

    from db.deployment import recorded_mode, refuse_other_mode

    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            if recorded_mode(connection) not in (None, "paper"):
                refuse_other_mode(connection, "paper", "the demo")
    except OperationalError:
        return  # no such database yet (the server itself answered ensure_services)
    finally:
        engine.dispose()


def _seed_market(seed: int, origin: datetime, hours: float) -> None:
    from exchanges.scenarios import generate_scenario, store_ticks
    from strategies.runtime import get_runtime, venue_accounts

    runtime = get_runtime()
    venues = sorted({va.venue for c in runtime.configs.values() for va in venue_accounts(c)})
    symbols = {symbol for c in runtime.configs.values() for symbol in c.traded_symbols()}
    # Start a day early so every venue has a funding history when the demo begins.
    ticks = generate_scenario(
        seed,
        venues,
        sorted(symbols),
        origin - timedelta(hours=24),
        hours + 24,
        step=timedelta(minutes=30),
    )
    count = store_ticks(runtime.engine, ticks)
    console.print(
        f"scenario: {count} ticks for {len(venues)} venues x {len(symbols)} symbols (seed {seed})"
    )


def _seed_history(origin: datetime, hours: float) -> None:
    """The sample's settlements and marks from a day before `origin` as the paper market."""
    from backtest.history import load_data
    from backtest.paper_replay import paper_ticks
    from core.clock import ManualClock
    from exchanges.scenarios import store_ticks
    from strategies.runtime import get_runtime, venue_accounts

    runtime = get_runtime()
    venues = sorted({va.venue for c in runtime.configs.values() for va in venue_accounts(c)})
    symbols = sorted({symbol for c in runtime.configs.values() for symbol in c.traded_symbols()})
    start = origin - timedelta(hours=24)  # every venue has a funding history at the start
    end = origin + timedelta(hours=hours)
    data = load_data(REAL_HISTORY, venues, symbols, start, end, ManualClock(datetime.now(UTC)))
    ticks = paper_ticks(data, start, min(end, data.end))
    if not ticks:
        raise typer.BadParameter(f"the sample has no history from {origin:%Y-%m-%d}")
    count = store_ticks(runtime.engine, ticks)
    console.print(
        f"real history: {count} hourly ticks for {len(venues)} venues x {len(symbols)} "
        f"symbols from {start:%Y-%m-%d %H:%M} ({REAL_HISTORY.relative_to(PROJECT_ROOT)})"
    )
    if data.price_proxy:
        console.print(f"prices: {data.price_proxy}", highlight=False)


# One account starts short of margin, so the demo shows the transfers phase asking for money
# and a fund transfer (withdraw, bridge, deposit) delivering it.
SHORT_ACCOUNTS = {("paradex", "arb"): Decimal(1_200)}


def _fund_accounts(
    per_account: Decimal = Decimal(50_000),
    overrides: dict[tuple[str, str], Decimal] | None = None,
) -> None:
    from exchanges.paper.exchange import PaperExchange
    from exchanges.venues import venue_profile
    from strategies.runtime import get_runtime, venue_accounts

    runtime = get_runtime()
    pairs = sorted(
        {(va.venue, va.account) for c in runtime.configs.values() for va in venue_accounts(c)}
    )
    amounts = {pair: (overrides or {}).get(pair, per_account) for pair in pairs}
    for (venue, account), amount in amounts.items():
        client = runtime.exchange(venue, account)
        if not isinstance(client, PaperExchange):
            raise RuntimeError(f"the demo funds paper venues only; {venue}/{account} is not one")
        client.credit_deposit(
            f"demo-seed-{venue}-{account}", "USDC", amount, venue_profile(venue).deposit_chain
        )
    funded = ", ".join(f"{v}/{a} {amount:,}" for (v, a), amount in amounts.items())
    console.print(f"funded {len(pairs)} paper accounts (USDC): {funded}")


def _start(plan: DemoPlan, name: str, command: list[str], env: dict[str, str]) -> None:
    log = plan.run_dir / f"{name}.log"
    with log.open("wb") as handle:
        proc = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    plan.processes.append(Managed(name, proc, log))


def start_processes(plan: DemoPlan, flower_port: int | None, dashboard_port: int | None) -> None:
    env = _children_env(plan)
    _start(
        plan,
        "worker",
        [
            CELERY,
            "-A",
            "tasks",
            "worker",
            "-Q",
            "default,market,strategy,transfers",
            "-c",
            "4",
            "-n",
            f"demo-{uuid.uuid4().hex[:6]}@%h",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "INFO",
        ],
        env,
    )
    beat = [CELERY, "-A", "tasks", "beat", "-s", str(plan.run_dir / "beat-schedule"), "-l", "INFO"]
    _start(plan, "beat", beat, env)
    if flower_port is not None:
        flower_env = flower_environment(plan.flower_user, plan.flower_password, env)
        _start(plan, "flower", flower_command(flower_port), flower_env)
        plan.flower_url = f"http://127.0.0.1:{flower_port} (read-only)"
    if dashboard_port is not None:
        bot = str(PROJECT_ROOT / "trading_bot.py")
        dashboard = [sys.executable, bot, "dashboard", f"--port={dashboard_port}"]
        _start(plan, "dashboard", dashboard, env)
        plan.dashboard_url = f"http://127.0.0.1:{dashboard_port}"


def stop_processes(plan: DemoPlan, timeout: float = 20.0) -> None:
    """SIGTERM each process group (worker pool children included), then SIGKILL."""
    for managed in plan.processes:
        if managed.proc.poll() is None:
            os.killpg(managed.proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for managed in plan.processes:
        try:
            managed.proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            os.killpg(managed.proc.pid, signal.SIGKILL)
            managed.proc.wait(timeout=10)
        # Anything left in the group (an orphaned pool child) goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(managed.proc.pid, signal.SIGKILL)


def _watch(plan: DemoPlan, seconds: int) -> None:
    from rich.live import Live
    from rich.panel import Panel

    from cli.status import render_status
    from strategies.runtime import get_runtime

    clock = get_runtime().clock
    deadline = time.monotonic() + seconds
    header = (
        f"perpbot demo on paper venues — {seconds}s; logs: {plan.run_dir}\n"
        f"dashboard: {plan.dashboard_url or 'off'} (user {plan.dashboard_user}, password "
        f"{plan.dashboard_password})\n"
        f"Flower: {plan.flower_url or 'off'} (user {plan.flower_user}, password "
        f"{plan.flower_password_shown})"
    )
    console.print(header, highlight=False)

    def frame() -> Panel:
        left = max(0, int(deadline - time.monotonic()))
        title = f"simulated {clock.now():%Y-%m-%d %H:%M} UTC — {left}s left (Ctrl-C stops)"
        return Panel(render_status(limit=8), title=title)

    if console.is_terminal:
        with Live(frame(), console=console, refresh_per_second=1) as live:
            while time.monotonic() < deadline:
                _check_alive(plan)
                time.sleep(1)
                live.update(frame())
    else:
        while time.monotonic() < deadline:
            _check_alive(plan)
            time.sleep(min(10.0, max(deadline - time.monotonic(), 0)))
            data = summary()
            console.print(
                f"[{int(deadline - time.monotonic())}s left] sim {clock.now():%m-%d %H:%M}"
                f" positions={sum(p['count'] for p in data['positions'])}"
                f" funding=${Decimal(str(data['funding_collected_usd'])):,.2f}"
                f" orders={sum(data['orders'].values())}",
                highlight=False,
            )


def _check_alive(plan: DemoPlan) -> None:
    for managed in plan.processes:
        if managed.proc.poll() is not None:
            tail = managed.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(
                f"{managed.name} exited early (code {managed.proc.returncode}):\n{tail}"
            )


@one_line_errors
def demo(
    seconds: int = typer.Option(
        int(os.environ.get("DEMO_SECONDS", "180")),
        "--seconds",
        min=10,
        help="How long to run (real seconds; env DEMO_SECONDS).",
    ),
    speed: float = typer.Option(3600.0, "--speed", min=1.0, help="Simulated seconds per second."),
    seed: int = typer.Option(7, "--seed", help="Scenario seed."),
    database: str = typer.Option(
        "perpbot_demo",
        "--database",
        help="Demo database name; must start with perpbot_demo (it is dropped and recreated).",
    ),
    flower_port: int = typer.Option(5555, "--flower-port", help="0: no Flower."),
    dashboard_port: int = typer.Option(8050, "--dashboard-port", help="0: no dashboard."),
    source: str = typer.Option(
        os.environ.get("DEMO_DATA", "scenario"),
        "--data",
        help="scenario (generated) or real (the sample's history from DEMO_FROM; env DEMO_DATA).",
    ),
    real_from: str = typer.Option(
        os.environ.get("DEMO_FROM", DEFAULT_REAL_FROM),
        "--from",
        help="With --data real: where the replay starts (a date in the sample; env DEMO_FROM).",
    ),
) -> None:
    """Run funding arbitrage and the grid on paper venues with worker, beat and Flower."""
    plan = prepare(seed, speed, seconds, database, source, real_start(real_from))
    interrupted = False
    try:
        from funding_service.collector import FundingCollector
        from strategies.runtime import get_runtime
        from tasks.market_tasks import collection_venues

        runtime = get_runtime()
        FundingCollector(
            {v: runtime.exchange(v) for v in collection_venues()}, runtime.clock, runtime.engine
        ).collect()
        start_processes(plan, flower_port or None, dashboard_port or None)
        _watch(plan, seconds)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        stop_processes(plan)
    data = summary()
    (plan.run_dir / "summary.json").write_text(json.dumps(data, indent=2))
    _write_dashboard_env(plan)
    console.print(("demo interrupted" if interrupted else "demo finished") + ":")
    console.print(render_summary(data), highlight=False)
    console.print(
        f"The JSON summary is in {plan.run_dir / 'summary.json'}.\n"
        "Open the dashboard on the demo's data afterwards:\n"
        "  .venv/bin/python trading_bot.py dashboard --demo\n"
        f"  then http://127.0.0.1:8050 — user {plan.dashboard_user}, password "
        f"{plan.dashboard_password} (the demo's clock stays where it stopped, at 1x)",
        highlight=False,
    )


def _write_dashboard_env(plan: DemoPlan) -> None:
    """What `trading_bot.py dashboard --demo` needs: the demo's database and configs, and a
    clock that goes on from where the demo's stopped, at real speed."""
    from core.private_files import write_private
    from strategies.runtime import get_runtime

    stopped = get_runtime().clock.now()
    lines = {
        "DATABASE_URL": plan.database_url,
        "REDIS_URL": plan.redis_url,
        "PERPBOT_MODE": "paper",
        "PERPBOT_STRATEGIES": plan.env["PERPBOT_STRATEGIES"],
        "PERPBOT_BROKER_PREFIX": plan.env["PERPBOT_BROKER_PREFIX"],
        "PERPBOT_CLOCK_ORIGIN": stopped.isoformat(),
        "PERPBOT_CLOCK_SPEED": "1",
        "PERPBOT_CLOCK_REAL_START": repr(time.time()),
    }
    # It names the database (a URL may carry its password): readable by its owner only.
    write_private(plan.run_dir / "demo.env", "".join(f"{k}={v}\n" for k, v in lines.items()))

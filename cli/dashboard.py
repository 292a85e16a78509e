"""`trading_bot.py dashboard` (serve the web dashboard) and `dashboard-users` (who may log in)."""

from __future__ import annotations

import ipaddress
import os
from typing import TYPE_CHECKING

import typer

from cli.common import EXIT_BAD_INPUT, console, fail, one_line_errors
from core.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from dashboard.auth import Authenticator

users_app = typer.Typer(help="Dashboard users: add, list, remove.", no_args_is_help=True)

DEMO_ENV = PROJECT_ROOT / ".run" / "demo" / "demo.env"
FIRST_USER = "operator"


def _authenticator() -> Authenticator:
    from dashboard.auth import Authenticator
    from strategies.runtime import get_runtime

    return Authenticator(get_runtime().engine)


def _load_demo_env() -> None:
    """Point this process at the last demo's database, configs and (stopped) clock."""
    from core.settings import get_settings
    from strategies.runtime import reset_runtime

    if not DEMO_ENV.is_file():
        raise fail(f"{DEMO_ENV}: no demo has finished in this checkout yet (run `make demo`)")
    for line in DEMO_ENV.read_text().splitlines():
        name, _, value = line.partition("=")
        if name and not name.startswith("#"):
            os.environ[name] = value
    get_settings.cache_clear()
    reset_runtime()


def ensure_first_user() -> str | None:
    """With no user at all, create the operator with a generated password; return it (it is
    shown once and stored only hashed)."""
    from sqlalchemy.orm import Session

    from dashboard.auth import generate_password
    from db.repositories.dashboard_auth import DashboardUserRepository
    from strategies.runtime import get_runtime

    with Session(get_runtime().engine) as session:
        if DashboardUserRepository(session).count():
            return None
    password = generate_password()
    _authenticator().put_user(FIRST_USER, "operator", password)
    return password


@one_line_errors
def dashboard(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to bind (default: this machine only)."
    ),
    port: int = typer.Option(8050, "--port", min=1, max=65535),
    demo: bool = typer.Option(
        False, "--demo", help="Serve the last demo's data (.run/demo/demo.env)."
    ),
) -> None:
    """Serve the web dashboard from the configured database (log in with a dashboard user)."""
    import uvicorn

    from dashboard.app import create_app

    if demo:
        _load_demo_env()
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        console.print(
            f"[yellow]warning:[/yellow] serving on {host}, beyond this machine: put it behind "
            "TLS (cookies are marked Secure only over https)",
            highlight=False,
        )
    password = ensure_first_user()
    console.print(f"dashboard: http://{host}:{port}", highlight=False)
    if password is not None:
        console.print(
            f"created dashboard user {FIRST_USER!r} (role operator), password: {password}\n"
            "  shown once, stored hashed; `trading_bot.py dashboard-users add` sets others",
            highlight=False,
        )
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")


@users_app.command("add")
@one_line_errors
def add_user(
    name: str = typer.Argument(..., help="User name (letters, digits, '-', '_')."),
    role: str = typer.Option(
        "operator", "--role", help="operator (may act) or viewer (read-only)."
    ),
) -> None:
    """Create a user (or reset an existing one's role and password, logging it out
    everywhere); prints the generated password once."""
    from dashboard.auth import generate_password

    password = generate_password()
    try:
        _authenticator().put_user(name, role, password)
    except ValueError as exc:
        raise fail(str(exc), EXIT_BAD_INPUT) from None
    console.print(
        f"user {name} ({role}) password: {password}  (shown once, stored hashed)", highlight=False
    )


@users_app.command("list")
@one_line_errors
def list_users() -> None:
    """Every dashboard user and role."""
    from sqlalchemy.orm import Session

    from db.repositories.dashboard_auth import DashboardUserRepository
    from strategies.runtime import get_runtime

    with Session(get_runtime().engine) as session:
        users = DashboardUserRepository(session).all()
        for user in users:
            console.print(f"{user.name}  {user.role}  since {user.created_at:%Y-%m-%d %H:%M} UTC")
        if not users:
            console.print("no dashboard users (the first `trading_bot.py dashboard` creates one)")


@users_app.command("remove")
@one_line_errors
def remove_user(name: str = typer.Argument(...)) -> None:
    """Remove a user; its sessions end at once."""
    from db.repositories.dashboard_auth import DashboardUserRepository
    from db.uow import unit_of_work
    from strategies.runtime import get_runtime

    with unit_of_work(get_runtime().engine) as session:
        removed = DashboardUserRepository(session).remove(name)
    if not removed:
        raise fail(f"no dashboard user {name!r}", EXIT_BAD_INPUT)
    console.print(f"removed {name}")

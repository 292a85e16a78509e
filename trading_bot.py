"""perpbot operator CLI.

Every command prints one clear line on error (exit code 2 for bad input, 1 when a service
is unavailable) instead of a traceback.
"""

from __future__ import annotations

import typer

from cli import data, funding, ops, strategies, transfers, venues
from cli.backtest import backtest
from cli.common import console, one_line_errors
from cli.dashboard import dashboard, users_app
from cli.demo import demo
from cli.flower import flower

app = typer.Typer(
    help="Run and operate perpbot strategies.", no_args_is_help=True, pretty_exceptions_enable=False
)
services_app = typer.Typer(help="Find, start or stop PostgreSQL and Redis.", no_args_is_help=True)
app.add_typer(services_app, name="services")
app.add_typer(funding.app, name="funding")
app.add_typer(data.app, name="data")
app.add_typer(transfers.app, name="transfer")
app.add_typer(venues.app, name="venues")
for _command in [*strategies.app.registered_commands, *ops.app.registered_commands]:
    app.registered_commands.append(_command)
app.command("demo")(demo)
app.command("backtest")(backtest)
app.command("flower")(flower)
app.command("dashboard")(dashboard)
app.add_typer(users_app, name="dashboard-users")


@services_app.command("up")
@one_line_errors
def services_up() -> None:
    """Use DATABASE_URL/REDIS_URL, else localhost, else start embedded servers under .run/."""
    from core.services import ensure_services

    services = ensure_services(announce=False)
    console.print(services.describe(), highlight=False)


@services_app.command("down")
@one_line_errors
def services_down() -> None:
    """Stop the embedded servers this checkout started (local servers are left alone)."""
    from core.services import stop_services

    stopped = stop_services()
    console.print(
        "stopped: " + (", ".join(stopped) if stopped else "nothing (no embedded servers)")
    )


@app.command()
@one_line_errors
def migrate(revision: str = typer.Argument("head", help="Alembic revision to upgrade to.")) -> None:
    """Bring the database schema up to date (creates the database if needed)."""
    from core.services import ensure_services
    from db.migrate import upgrade

    services = ensure_services(announce=False)
    upgrade(services.postgres.url, revision)
    console.print(f"database migrated to {revision}")


def main() -> None:
    app(prog_name="trading_bot.py")


if __name__ == "__main__":
    main()

"""What every CLI command shares: consoles and one-line error reporting."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import typer
from psycopg.errors import UndefinedTable
from rich.console import Console
from sqlalchemy.exc import OperationalError, ProgrammingError

from core.errors import ConfigError, PerpbotError, ServiceUnavailableError

console = Console()
err_console = Console(stderr=True)

# Exit codes: 1 = a service or operation failed, 2 = bad input (config, argument, name).
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print `message` as one error line; return the Exit to raise."""
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def one_line_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn perpbot errors into one line on stderr and a meaningful exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ServiceUnavailableError as exc:
            raise fail(str(exc), EXIT_FAILED) from None
        except ConfigError as exc:
            raise fail(str(exc), EXIT_BAD_INPUT) from None
        except PerpbotError as exc:
            raise fail(str(exc), EXIT_FAILED) from None
        except ProgrammingError as exc:
            if isinstance(exc.orig, UndefinedTable):
                raise fail(
                    "the database schema is not up to date: run `trading_bot.py migrate`",
                    EXIT_FAILED,
                ) from None
            raise
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise fail(f"database unavailable: {reason}", EXIT_FAILED) from None

    return wrapper

"""Flower, the Celery dashboard, as perpbot starts it: read-only, behind basic auth, local.

- `--read_only`: every endpoint that would start or stop something (send-task, apply,
  async-apply, revoke, abort, rate-limit, timeout, worker shutdown, pool restart/grow/shrink/
  autoscale, queue add/cancel consumer) answers 403, so the Flower password is not operator
  rights; the pages and the read API still work.
- The credentials go through the environment (`FLOWER_BASIC_AUTH`), never the command line,
  so `ps` cannot show them; `FLOWER_UNAUTHENTICATED_API` is never passed on.
- It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import typer

from cli.common import console, one_line_errors

CELERY = str(Path(sys.executable).with_name("celery"))
# Flower reads every FLOWER_<OPTION> variable as an option; these must never reach it.
_NEVER_PASSED = ("FLOWER_UNAUTHENTICATED_API", "FLOWER_BASIC_AUTH", "FLOWER_PASSWORD")


def flower_command(port: int) -> list[str]:
    """The command line of a perpbot Flower (no secret in it)."""
    return [
        CELERY,
        "-A",
        "tasks",
        "flower",
        f"--port={port}",
        "--address=127.0.0.1",
        "--read_only=True",
    ]


def flower_environment(
    user: str, password: str, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """`base` (default: this process's environment) with Flower's credentials added."""
    environ = {k: v for k, v in (base or os.environ).items() if k not in _NEVER_PASSED}
    environ["FLOWER_BASIC_AUTH"] = f"{user}:{password}"
    return environ


def flower_password(configured: str | None) -> tuple[str, str]:
    """The password to use and how to show it: the configured one is never printed; a
    generated one (for this run only) is, as there is no other way to learn it."""
    if configured:
        return configured, "from FLOWER_PASSWORD"
    generated = secrets.token_urlsafe(12)
    return generated, generated


@one_line_errors
def flower(
    port: int = typer.Option(5555, "--port", help="Port on 127.0.0.1."),
) -> None:
    """Start Flower (the Celery dashboard) read-only with basic auth; prints URL and user.

    Credentials come from FLOWER_USER / FLOWER_PASSWORD; without a password one is generated
    for this run and printed (a configured one never is).
    """
    from core.settings import get_settings

    settings = get_settings()
    configured = settings.flower_password
    password, shown = flower_password(configured.get_secret_value() if configured else None)
    console.print(
        f"Flower (read-only): http://127.0.0.1:{port}  user: {settings.flower_user}  "
        f"password: {shown}",
        highlight=False,
    )
    subprocess.run(
        flower_command(port),
        env=flower_environment(settings.flower_user, password),
        check=False,
    )

"""The environment every process of the test suite runs in: paper, never live.

`make test` may run in a shell that has live variables set (an operator's terminal). The
suite forces `PERPBOT_MODE=paper` and removes the live confirmation and every venue's
credentials (`PERPBOT_<VENUE>_*`) from its own environment at start-up, and again from the
environment of every process it starts (workers, beat, CLI subprocesses), so no test can
build a live client whatever the caller's shell holds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping

from exchanges.venues import VENUES

LIVE_SWITCHES = ("PERPBOT_LIVE_CONFIRM",)
_VENUE_PREFIXES = tuple(f"PERPBOT_{venue.upper()}_" for venue in VENUES)


def is_live_variable(name: str) -> bool:
    """A variable that could make a process trade live: the confirmation or a credential."""
    return name in LIVE_SWITCHES or name.upper().startswith(_VENUE_PREFIXES)


def force_paper(environ: MutableMapping[str, str]) -> None:
    """Make `environ` paper-only, in place."""
    for name in [n for n in environ if is_live_variable(n)]:
        del environ[name]
    environ["PERPBOT_MODE"] = "paper"


def paper_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment plus `extra`, paper-only: for every process a test starts."""
    environ = {**os.environ, **(extra or {})}
    force_paper(environ)
    return environ

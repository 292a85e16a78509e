"""The environment every process of the test suite runs in: paper, never live.

`make test` may run in a shell that has live variables set (an operator's terminal). The
suite forces `PERPBOT_MODE=paper` and removes the live confirmation and every venue's
credentials (`PERPBOT_<VENUE>_*`) from its own environment at start-up, and again from the
environment of every process it starts (workers, beat, CLI subprocesses), so no test can
build a live client whatever the caller's shell holds. The rule is the demo's
(`exchanges.registry.paper_environment`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping

from exchanges.registry import paper_environment


def force_paper(environ: MutableMapping[str, str]) -> None:
    """Make `environ` paper-only, in place."""
    paper = paper_environment(environ)
    for name in [n for n in environ if n not in paper]:
        del environ[name]
    environ.update(paper)


def paper_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment plus `extra`, paper-only: for every process a test starts."""
    return paper_environment({**os.environ, **(extra or {})})

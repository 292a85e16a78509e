"""Files that hold secrets (URLs with passwords, generated passwords): owner-only, 0600."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from core.errors import ConfigError

PRIVATE_MODE = 0o600


def _private_temporary(path: Path, text: str) -> Path:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, readable and writable by its owner only, replacing it at once
    (a reader never sees half a file; the old file's mode does not carry over)."""
    os.replace(_private_temporary(path, text), path)


def private_secret(path: Path, length: int = 32) -> str:
    """The secret stored in `path`, made (URL-safe, `length` random bytes) on first use.

    Processes racing to make it agree: the file appears whole and only once (a hard link
    cannot replace an existing file), and every one of them reads the winner's."""
    if not path.exists():
        temporary = _private_temporary(path, secrets.token_urlsafe(length) + "\n")
        try:
            with contextlib.suppress(FileExistsError):  # another process's secret won
                os.link(temporary, path)
        finally:
            temporary.unlink()
    path.chmod(PRIVATE_MODE)  # an older file made before this rule
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise ConfigError(f"{path} is empty: delete it and a new secret is made")
    return value

"""The errors of history input a user can fix (bad file, row, mapping, conflicting rows)."""

from __future__ import annotations

from core.errors import ConfigError
from funding_service.history.importer import HistoryConflictError
from funding_service.history.reader import HistoryFileError
from funding_service.history.validate import HistoryRowError

HISTORY_INPUT_ERRORS = (HistoryFileError, HistoryRowError, HistoryConflictError, ConfigError)

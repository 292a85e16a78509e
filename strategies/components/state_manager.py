"""Strategy state backends: `PostgresStateManager` (JSONB in `strategy_state`) and
`InMemoryStateManager`, one contract (see `StateManager` in base_components).

Types that JSON lacks are stored as tagged objects and restored on load:
`Decimal("1.50")` <-> `{"__decimal__": "1.50"}` (every digit kept, never a float) and an
aware `datetime` <-> `{"__datetime__": "2025-01-01T00:00:00+00:00"}` (UTC). A bare string
would be ambiguous ("1.5" the text or 1.5 the amount?), hence the tag. Tuples come back as
lists. Anything else (floats that are not finite, naive times, sets, objects, non-string
keys, the NUL character JSONB refuses) is rejected with the path to the bad value, by both
backends alike, before anything is written.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.clock import Clock
from core.errors import ConcurrencyConflictError
from db.repositories import StateRepository
from strategies.components.base_components import (
    InvalidStateError,
    StateManager,
    StateMutation,
    VersionedState,
)
from strategies.components.sessions import SessionScope

DECIMAL_TAG = "__decimal__"
DATETIME_TAG = "__datetime__"
_TAGS = frozenset({DECIMAL_TAG, DATETIME_TAG})
MAX_STRATEGY_NAME_LENGTH = 50  # strategy_state.strategy_name is VARCHAR(50)


# ---------------------------------------------------------------- codec


def encode_state(data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` as plain JSON with Decimal and datetime tagged; `InvalidStateError` if it can't be."""
    if not isinstance(data, Mapping):
        raise InvalidStateError(f"state: expected a mapping, got {type(data).__name__}")
    encoded: dict[str, Any] = _encode(data, "state")
    return encoded


def _encode(value: Any, path: str) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return _checked_text(value, path)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidStateError(f"{path}: {value} is not a finite number")
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidStateError(f"{path}: Decimal {value} is not finite")
        return {DECIMAL_TAG: str(value)}
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidStateError(f"{path}: naive datetime {value!r}; use timezone-aware UTC")
        return {DATETIME_TAG: value.astimezone(UTC).isoformat()}
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidStateError(f"{path}: key {key!r} is not a string")
            if key in _TAGS:
                raise InvalidStateError(f"{path}: key {key!r} is reserved for type tags")
            result[_checked_text(key, path)] = _encode(item, f"{path}[{key!r}]")
        return result
    if isinstance(value, list | tuple):
        return [_encode(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise InvalidStateError(f"{path}: {type(value).__name__} cannot be stored in strategy state")


def _checked_text(text: str, path: str) -> str:
    # PostgreSQL's JSONB refuses both; refusing them here keeps the in-memory twin identical.
    if "\x00" in text:
        raise InvalidStateError(f"{path}: text contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidStateError(f"{path}: text is not valid Unicode") from None
    return text


def decode_state(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of `encode_state`."""
    decoded: dict[str, Any] = _decode(raw)
    return decoded


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, item),) = value.items()
            if key == DECIMAL_TAG:
                try:
                    return Decimal(item)
                except (InvalidOperation, TypeError):
                    raise InvalidStateError(f"stored state: bad Decimal {item!r}") from None
            if key == DATETIME_TAG:
                return datetime.fromisoformat(item)
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def _as_stored(data: Mapping[str, Any]) -> dict[str, Any]:
    """What `load` will return after `data` is saved."""
    return decode_state(json.loads(json.dumps(encode_state(data))))


# ---------------------------------------------------------------- shared rules


def check_strategy_name(strategy_name: str) -> str:
    if not isinstance(strategy_name, str) or not strategy_name.strip():
        raise InvalidStateError("strategy_name: must be a non-empty string")
    if len(strategy_name) > MAX_STRATEGY_NAME_LENGTH:
        raise InvalidStateError(
            f"strategy_name: {strategy_name!r} is longer than {MAX_STRATEGY_NAME_LENGTH} characters"
        )
    return strategy_name


def _check_expected_version(expected_version: int) -> None:
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise InvalidStateError(f"expected_version: expected an int, got {expected_version!r}")
    if expected_version < 0:
        raise InvalidStateError(f"expected_version: must be >= 0, got {expected_version}")


def conflict_error(
    strategy_name: str, expected_version: int, found: int | None
) -> ConcurrencyConflictError:
    """The conflict both backends raise (same words as `db.repositories.StateRepository`)."""
    return ConcurrencyConflictError(
        f"strategy_state for {strategy_name!r}: expected version {expected_version}, "
        f"found {found if found is not None else 'no row'}; re-read and retry"
    )


def update_with_retries(
    manager: StateManager, strategy_name: str, mutate: StateMutation, retries: int, clock: Clock
) -> VersionedState:
    """Optimistic read-modify-write: `mutate` may run more than once, so it must be pure.

    Between attempts the writer backs off for a short random time on `clock` so two writers
    that collided do not collide again in lock-step (under a scaled clock the back-off
    shrinks with it; a collision is retried either way, at most `retries` times).
    """
    if retries < 0:
        raise ValueError(f"retries: must be >= 0, got {retries}")
    for attempt in range(retries + 1):
        current = manager.load(strategy_name)
        new_data = mutate(current.data)
        if not isinstance(new_data, Mapping):
            raise InvalidStateError(
                f"state update for {strategy_name!r}: mutate must return the new state "
                f"mapping, got {type(new_data).__name__}"
            )
        try:
            version = manager.save(strategy_name, new_data, current.version)
        except ConcurrencyConflictError as exc:
            if attempt == retries:
                raise ConcurrencyConflictError(
                    f"state update for {strategy_name!r} gave up after {retries + 1} attempts: "
                    f"{exc}"
                ) from exc
            # Jitter, not security: S311 does not apply.
            clock.sleep(random.uniform(0, 0.001 * 2 ** min(attempt, 6)))  # noqa: S311
            continue
        return VersionedState(_as_stored(new_data), version)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


# ---------------------------------------------------------------- backends


class PostgresStateManager:
    """`strategy_state` rows through `StateRepository`; one transaction per call."""

    def __init__(self, session_scope: SessionScope, clock: Clock) -> None:
        self._scope = session_scope
        self._clock = clock

    def load(self, strategy_name: str) -> VersionedState:
        check_strategy_name(strategy_name)
        with self._scope() as session:
            record = StateRepository(session).get(strategy_name)
        if record is None:
            return VersionedState({}, 0)
        return VersionedState(decode_state(record.data), record.version)

    def save(self, strategy_name: str, data: Mapping[str, Any], expected_version: int) -> int:
        check_strategy_name(strategy_name)
        _check_expected_version(expected_version)
        encoded = encode_state(data)
        with self._scope() as session:
            return StateRepository(session).save(strategy_name, encoded, expected_version)

    def update(self, strategy_name: str, mutate: StateMutation, retries: int = 5) -> VersionedState:
        return update_with_retries(self, strategy_name, mutate, retries, self._clock)

    def delete(self, strategy_name: str) -> None:
        check_strategy_name(strategy_name)
        with self._scope() as session:
            StateRepository(session).delete(strategy_name)


class InMemoryStateManager:
    """The same contract in a dict (tests, backtests). Thread-safe.

    State is kept as JSON text, so what comes back is exactly what PostgreSQL returns and
    no caller can change stored state by mutating a dict it holds.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._rows: dict[str, tuple[str, int]] = {}
        self._lock = threading.Lock()

    def load(self, strategy_name: str) -> VersionedState:
        check_strategy_name(strategy_name)
        with self._lock:
            row = self._rows.get(strategy_name)
        if row is None:
            return VersionedState({}, 0)
        text, version = row
        return VersionedState(decode_state(json.loads(text)), version)

    def save(self, strategy_name: str, data: Mapping[str, Any], expected_version: int) -> int:
        check_strategy_name(strategy_name)
        _check_expected_version(expected_version)
        text = json.dumps(encode_state(data))
        with self._lock:
            row = self._rows.get(strategy_name)
            found = row[1] if row is not None else None
            if (found or 0) != expected_version:
                raise conflict_error(strategy_name, expected_version, found)
            self._rows[strategy_name] = (text, expected_version + 1)
            return expected_version + 1

    def update(self, strategy_name: str, mutate: StateMutation, retries: int = 5) -> VersionedState:
        return update_with_retries(self, strategy_name, mutate, retries, self._clock)

    def delete(self, strategy_name: str) -> None:
        check_strategy_name(strategy_name)
        with self._lock:
            self._rows.pop(strategy_name, None)

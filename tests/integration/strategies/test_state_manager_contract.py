"""One contract, two backends: PostgresStateManager and InMemoryStateManager behave alike."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ConcurrencyConflictError
from strategies.components.base_components import InvalidStateError, StateManager


def test_unknown_strategy_has_empty_state_at_version_zero(state_manager):
    assert state_manager.load("nobody") == ({}, 0)


def test_first_save_then_versioned_saves(state_manager):
    assert state_manager.save("grid-1", {"levels": [1, 2]}, expected_version=0) == 1
    assert state_manager.save("grid-1", {"levels": [1, 2, 3]}, expected_version=1) == 2
    data, version = state_manager.load("grid-1")
    assert data == {"levels": [1, 2, 3]}
    assert version == 2


def test_a_stale_save_conflicts_and_changes_nothing(state_manager):
    state_manager.save("arb", {"n": 1}, 0)
    with pytest.raises(ConcurrencyConflictError, match="'arb': expected version 0, found 1"):
        state_manager.save("arb", {"n": 2}, 0)
    with pytest.raises(ConcurrencyConflictError, match="expected version 7, found 1"):
        state_manager.save("arb", {"n": 2}, 7)
    with pytest.raises(ConcurrencyConflictError, match="expected version 1, found no row"):
        state_manager.save("fresh", {"n": 2}, 1)
    assert state_manager.load("arb") == ({"n": 1}, 1)
    assert state_manager.load("fresh") == ({}, 0)


def test_decimals_and_times_come_back_as_the_same_types(state_manager):
    later = datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    state = {
        "pnl": Decimal("-1234.567890123456789012345"),
        "tiny": Decimal("1E-30"),
        "when": later,
        "nested": {"legs": [{"qty": Decimal("0.001"), "open": True}, None]},
        "pair": ("BTC", "ETH"),
        "ratio": 0.25,
        "count": 10**30,
        "text": "funding ✓",
    }
    state_manager.save("types", state, 0)
    data, _ = state_manager.load("types")
    assert data["pnl"] == Decimal("-1234.567890123456789012345")
    assert str(data["pnl"]) == "-1234.567890123456789012345"  # every digit, never a float
    assert data["tiny"] == Decimal("1E-30")
    assert data["when"] == later and data["when"].utcoffset() == timedelta(0)
    assert data["nested"] == {"legs": [{"qty": Decimal("0.001"), "open": True}, None]}
    assert data["pair"] == ["BTC", "ETH"]  # tuples come back as lists
    assert data["ratio"] == 0.25 and data["count"] == 10**30 and data["text"] == "funding ✓"


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"x": float("nan")}, r"state\['x'\]: nan is not a finite number"),
        ({"x": Decimal("Infinity")}, r"state\['x'\]: Decimal Infinity is not finite"),
        ({"at": datetime(2025, 1, 1)}, r"state\['at'\]: naive datetime"),
        ({"s": {1, 2}}, r"state\['s'\]: set cannot be stored"),
        ({"m": {1: "a"}}, r"state\['m'\]: key 1 is not a string"),
        ({"m": {"__decimal__": "1"}}, r"state\['m'\]: key '__decimal__' is reserved"),
        ({"l": ["ok", "nul\x00"]}, r"state\['l'\]\[1\]: text contains a NUL character"),
        ({"l": ["\ud800"]}, r"state\['l'\]\[0\]: text is not valid Unicode"),
        (["not", "a", "mapping"], "state: expected a mapping, got list"),
    ],
)
def test_unstorable_values_are_refused_with_their_path_and_nothing_is_written(
    state_manager, state, message
):
    state_manager.save("s", {"kept": 1}, 0)
    with pytest.raises(InvalidStateError, match=message):
        state_manager.save("s", state, 1)
    assert state_manager.load("s") == ({"kept": 1}, 1)


@pytest.mark.parametrize(
    ("name", "version", "message"),
    [
        ("", 0, "strategy_name: must be a non-empty string"),
        ("x" * 51, 0, "longer than 50 characters"),
        ("ok", -1, "expected_version: must be >= 0"),
        ("ok", True, "expected_version: expected an int"),
    ],
)
def test_bad_names_and_versions_are_refused(state_manager, name, version, message):
    with pytest.raises(InvalidStateError, match=message):
        state_manager.save(name, {}, version)


def test_loaded_state_is_a_copy(state_manager):
    state_manager.save("copy", {"levels": [1]}, 0)
    data, _ = state_manager.load("copy")
    data["levels"].append(2)
    assert state_manager.load("copy").data == {"levels": [1]}


def test_update_applies_a_change_and_returns_what_is_stored(state_manager):
    result = state_manager.update("u", lambda s: {**s, "n": s.get("n", 0) + 1})
    assert result == ({"n": 1}, 1)
    result = state_manager.update("u", lambda s: {**s, "n": s["n"] + 1, "at": Decimal("1.50")})
    assert result == ({"n": 2, "at": Decimal("1.50")}, 2)
    assert state_manager.load("u") == result


def test_update_rereads_and_retries_after_a_concurrent_write(state_manager):
    attempts: list[dict[str, Any]] = []

    def add_mine(state: dict[str, Any]) -> dict[str, Any]:
        attempts.append(dict(state))
        if len(attempts) == 1:  # another writer gets in between our read and our write
            state_manager.save("r", {**state, "theirs": True}, state_manager.load("r").version)
        return {**state, "mine": True}

    state_manager.save("r", {"start": True}, 0)
    result = state_manager.update("r", add_mine)
    assert attempts == [{"start": True}, {"start": True, "theirs": True}]
    assert result == ({"start": True, "theirs": True, "mine": True}, 3)


def test_update_gives_up_after_its_retries_without_writing(state_manager):
    def always_beaten(state: dict[str, Any]) -> dict[str, Any]:
        current = state_manager.load("g")
        state_manager.save("g", {"other": current.version}, current.version)
        return {"mine": True}

    with pytest.raises(ConcurrencyConflictError, match="'g' gave up after 2 attempts"):
        state_manager.update("g", always_beaten, retries=1)
    assert state_manager.load("g") == ({"other": 1}, 2)


def test_update_must_return_the_new_state(state_manager):
    with pytest.raises(
        InvalidStateError, match="mutate must return the new state mapping, got NoneType"
    ):
        state_manager.update("m", lambda s: None)  # type: ignore[arg-type,return-value]
    assert state_manager.load("m") == ({}, 0)


def test_delete_forgets_the_state(state_manager):
    state_manager.save("d", {"x": 1}, 0)
    state_manager.delete("d")
    assert state_manager.load("d") == ({}, 0)
    assert state_manager.save("d", {"x": 2}, 0) == 1
    state_manager.delete("never-existed")


def test_threads_incrementing_concurrently_lose_no_update(state_manager):
    per_thread = 25
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait(timeout=10)
            for _ in range(per_thread):
                state_manager.update("counter", lambda s: {"n": s.get("n", 0) + 1}, retries=200)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert state_manager.load("counter") == ({"n": 3 * per_thread}, 3 * per_thread)


json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.datetimes(timezones=st.just(UTC))
)
json_states = st.dictionaries(
    st.text(min_size=1, max_size=8).filter(lambda k: "\x00" not in k and not k.startswith("__")),
    st.recursive(
        json_leaves,
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.sampled_from("abc"), children, max_size=3)
        ),
        max_leaves=8,
    ),
    max_size=5,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(state=json_states)
def test_whatever_is_saved_loads_back_equal(state_manager: StateManager, state: dict[str, Any]):
    version = state_manager.load("prop").version
    state_manager.save("prop", state, version)
    loaded, _ = state_manager.load("prop")
    assert loaded == state
    assert _types(loaded) == _types(state)  # Decimal(1) == 1, so check no type was lost


def _types(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_types(item) for item in value]
    return type(value)

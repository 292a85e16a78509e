"""Optimistic concurrency on strategy_state with two real concurrent writers."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from core.errors import ConcurrencyConflictError
from db.repositories import StateRepository

AT = datetime(2020, 1, 6, 9, 30, tzinfo=UTC)  # the writer's clock, far from the server's


def test_first_write_then_versioned_updates(db_session):
    repo = StateRepository(db_session)
    assert repo.get("grid-1") is None
    assert repo.save("grid-1", {"levels": [1, 2]}, expected_version=0, at=AT) == 1
    assert repo.get("grid-1").last_updated == AT
    later = AT + timedelta(minutes=5)
    assert repo.save("grid-1", {"levels": [1, 2, 3]}, expected_version=1, at=later) == 2
    record = repo.get("grid-1")
    assert record.data == {"levels": [1, 2, 3]}
    assert record.version == 2
    assert record.last_updated.tzinfo is not None
    assert record.last_updated == later


def test_stale_version_is_a_clear_conflict(db_session):
    repo = StateRepository(db_session)
    repo.save("arb", {"n": 1}, expected_version=0, at=AT)
    with pytest.raises(ConcurrencyConflictError, match="expected version 0, found 1"):
        repo.save("arb", {"n": 2}, expected_version=0, at=AT)
    with pytest.raises(ConcurrencyConflictError, match="expected version 5, found 1"):
        repo.save("arb", {"n": 2}, expected_version=5, at=AT)


def test_two_concurrent_writers_one_wins_the_other_conflicts(engine, clean_db):
    with Session(engine) as session, session.begin():
        StateRepository(session).save("race", {"winner": None}, expected_version=0, at=AT)

    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def writer(name: str) -> None:
        with Session(engine) as session:
            try:
                with session.begin():
                    repo = StateRepository(session)
                    version = repo.get("race").version
                    barrier.wait(timeout=10)  # both have read version 1 before either writes
                    outcomes[name] = repo.save(
                        "race", {"winner": name}, expected_version=version, at=AT
                    )
            except ConcurrencyConflictError as exc:
                outcomes[name] = exc

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    wins = [n for n, o in outcomes.items() if o == 2]
    conflicts = [n for n, o in outcomes.items() if isinstance(o, ConcurrencyConflictError)]
    assert len(wins) == 1 and len(conflicts) == 1
    with Session(engine) as session:
        final = StateRepository(session).get("race")
    # The winner's write is what is stored: nothing lost, nothing half-written.
    assert final.version == 2
    assert final.data == {"winner": wins[0]}

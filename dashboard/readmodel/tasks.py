"""The tasks page: recent phase runs per strategy, succeeded, skipped (and why) or failed
(with the error), newest first."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from db.models import TaskRun

PER_STRATEGY = 40


@dataclass(frozen=True, slots=True)
class RunCounts:
    strategy: str
    succeeded: int
    skipped: int
    failed: int
    running: int


@dataclass(frozen=True)
class TaskPage:
    runs: list[TaskRun]
    counts: list[RunCounts]  # over the runs shown


def error_of(run: TaskRun) -> str | None:
    if run.status != "failed":
        return None
    return str(run.result.get("error") or run.reason or "failed without an error recorded")


def task_page(
    session: Session, strategies: list[str], strategy: str | None, status: str | None
) -> TaskPage:
    names = [strategy] if strategy is not None else strategies
    # The latest runs of each strategy, one index range per strategy.
    ids = [
        row[0]
        for row in session.execute(
            text(
                "SELECT r.id FROM unnest(CAST(:names AS text[])) AS s(name) CROSS JOIN LATERAL "
                "(SELECT id FROM task_runs WHERE strategy_name = s.name "
                "AND (CAST(:status AS text) IS NULL OR status = :status) "
                "ORDER BY started_at DESC LIMIT :n) r"
            ),
            {"names": names, "status": status, "n": PER_STRATEGY},
        )
    ]
    runs = (
        list(
            session.scalars(
                select(TaskRun).where(TaskRun.id.in_(ids)).order_by(TaskRun.started_at.desc())
            )
        )
        if ids
        else []
    )
    counts = []
    for name in names:
        mine = [r for r in runs if r.strategy_name == name]
        counts.append(
            RunCounts(
                name,
                *(
                    sum(r.status == s for r in mine)
                    for s in ("succeeded", "skipped", "failed", "running")
                ),
            )
        )
    return TaskPage(runs, counts)

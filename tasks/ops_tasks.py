"""Operations tasks: the breaker check (beat `breakers-check`) and the manual halt.

`check_breakers` runs `strategies/breaker_check.py` once and, after its halts are committed,
enqueues the closes a breaker with `close_hedged_on_trip` asked for (the same
`perpbot.strategy.close` task an operator's close is, under the strategy's lock).

`halt` is the operator's halt (CLI `trading_bot.py halt`, the dashboard's button): it trips
a manual halt for one strategy or `*`, then winds each affected strategy down under its lock
as `pause` does (resting orders that would add exposure are cancelled); with `close_hedged`
it also enqueues a close of every open position of the scope. Idempotent: a halted scope
keeps its first halt. Only `trading_bot.py resume --halt` lifts it.
"""

from __future__ import annotations

from typing import Any

from celery import Task
from celery.utils.log import get_task_logger
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import PositionStatus
from db.locks import strategy_lock
from db.models import StrategyPosition
from db.models.halts import GLOBAL_SCOPE
from strategies.breaker_check import BreakerCheck
from strategies.components.breakers import BreakerKind
from strategies.runtime import Runtime
from tasks import app
from tasks.transfer_dispatch import task_runtime

logger = get_task_logger(__name__)

CLOSE_TASK = "perpbot.strategy.close"
# Winding down waits for the strategy's lock: a phase holds it at most its hard time limit.
WIND_DOWN_RETRY_SECONDS = 2


@app.task(name="perpbot.ops.check_breakers", acks_late=True)
def check_breakers() -> dict[str, Any]:
    report = BreakerCheck(task_runtime()).run()
    for close in report.closes:
        app.send_task(
            CLOSE_TASK,
            args=(close.strategy, str(close.position_id)),
            kwargs={"reason": close.reason},
        )
    return report.to_json()


@app.task(name="perpbot.strategy.halt", bind=True, acks_late=True, queue="strategy")
def halt(
    self: Task[..., Any], scope: str, reason: str | None = None, close_hedged: bool = False
) -> dict[str, Any]:
    runtime = task_runtime()
    names = sorted(runtime.configs) if scope == GLOBAL_SCOPE else [scope]
    if scope != GLOBAL_SCOPE:
        runtime.config(scope)  # an unknown name fails before anything is recorded
    record = runtime.halt(scope, BreakerKind.MANUAL, reason or "operator")
    waiting = []
    for name in names:
        with strategy_lock(runtime.engine, name) as held:
            if not held:
                waiting.append(name)
                continue
            blocked = runtime.exposure_block(name)
            if blocked is not None:  # not lifted meanwhile
                runtime.build(name, no_new_exposure=blocked).stop()
    if waiting:
        limit = runtime.settings.task_time_limit // WIND_DOWN_RETRY_SECONDS + 1
        raise self.retry(countdown=WIND_DOWN_RETRY_SECONDS, max_retries=limit)
    closes = open_positions(runtime, names) if close_hedged else []
    for name, position_id in closes:
        app.send_task(
            CLOSE_TASK, args=(name, position_id), kwargs={"reason": f"halt: {record.reason}"}
        )
    return {
        "scope": scope,
        "halted": True,
        "breaker": record.breaker,
        "reason": record.reason,
        "closes": [pid for _, pid in closes],
    }


def open_positions(runtime: Runtime, names: list[str]) -> list[tuple[str, str]]:
    """(strategy, position id) of every open position of `names`: what a halt closes."""
    with Session(runtime.engine) as session:
        rows = session.execute(
            select(StrategyPosition.strategy_name, StrategyPosition.id).where(
                StrategyPosition.strategy_name.in_(names),
                StrategyPosition.status == PositionStatus.OPEN.value,
            )
        )
        return [(name, str(pid)) for name, pid in rows]

"""Strategy commands: run one in-process, see status, and enqueue manual operations."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cli.common import EXIT_BAD_INPUT, console, fail, one_line_errors

if TYPE_CHECKING:
    from strategies.runtime import Runtime

app = typer.Typer()


def _enqueue(
    action: str, name: str, position: uuid.UUID | None, reason: str | None, wait: bool
) -> None:
    # Imported here: the Celery app is built only by commands that send a task.
    from tasks.manual import ManualAction, ManualRequest, enqueue

    request = ManualRequest(ManualAction(action), name, position, reason)
    result = enqueue(request)  # ConfigError naming the strategy if unknown
    console.print(
        f"enqueued {request.task_name} {request.strategy} as task {result.id} (watch it in Flower)"
    )
    if wait:
        answer = result.get(timeout=120)
        console.print(answer)


def _position_id(value: str) -> uuid.UUID:
    from tasks.manual import position_uuid

    try:
        return position_uuid(value)
    except ValueError as exc:
        raise fail(f"--position: {exc}", EXIT_BAD_INPUT) from None


@app.command()
@one_line_errors
def rebalance(
    name: str = typer.Argument(..., help="Strategy name."),
    position: str | None = typer.Option(None, "--position", help="Only this position (id)."),
    reason: str | None = typer.Option(None, "--reason", help="Why (recorded with the run)."),
    wait: bool = typer.Option(False, "--wait", help="Wait for the result."),
) -> None:
    """Enqueue a rebalance of NAME now (runs under the strategy's lock, like beat's ticks)."""
    pid = _position_id(position) if position is not None else None
    _enqueue("rebalance", name, pid, reason, wait)


@app.command()
@one_line_errors
def close(
    name: str = typer.Argument(..., help="Strategy name."),
    position: str = typer.Option(..., "--position", help="Position id to close."),
    reason: str = typer.Option("operator", "--reason"),
    wait: bool = typer.Option(False, "--wait"),
) -> None:
    """Enqueue closing one position of NAME (both legs, reduce-only)."""
    _enqueue("close", name, _position_id(position), reason, wait)


@app.command()
@one_line_errors
def pause(
    name: str = typer.Argument(...),
    reason: str | None = typer.Option(None, "--reason"),
    wait: bool = typer.Option(False, "--wait"),
) -> None:
    """No new exposure for NAME until it is resumed.

    Its open and cycle phases are skipped (beat's and manual ones); the others close,
    reduce and monitor but open nothing; resting orders that would add exposure (a grid's
    opens) are cancelled."""
    _enqueue("pause", name, None, reason, wait)


@app.command()
@one_line_errors
def resume(
    name: str | None = typer.Argument(None, help="Strategy name (--all only with --halt)."),
    reason: str | None = typer.Option(None, "--reason"),
    wait: bool = typer.Option(False, "--wait"),
    halt: bool = typer.Option(
        False, "--halt", help="Lift NAME's halt (a tripped breaker or a manual halt) instead."
    ),
    all_: bool = typer.Option(False, "--all", help="With --halt: lift the global halt."),
    by: str | None = typer.Option(None, "--by", help="Who lifts the halt (default: $USER)."),
) -> None:
    """Let NAME take new exposure again (its next open/cycle phase runs).

    A pause is lifted by `resume NAME`; a halt only by `resume NAME --halt` (or
    `resume --all --halt` for the global one), after the cause has been looked at."""
    from cli.ops import lift, scope_of

    if halt:
        lift(scope_of(name, all_, "resume --halt"), by)
        return
    if name is None or all_:
        raise fail("resume: give a strategy NAME (--all only lifts the global halt, with --halt)")
    _enqueue("resume", name, None, reason, wait)


@app.command()
@one_line_errors
def run(
    config: Path = typer.Argument(..., help="A strategy YAML file."),
    cycles: int = typer.Option(0, "--cycles", min=0, help="Stop after N cycles (0: Ctrl-C)."),
    interval: float = typer.Option(5.0, "--interval", min=0.0, help="Real seconds per cycle."),
) -> None:
    """Run one strategy in this process, no broker: the simple single-machine way.

    Each cycle collects funding rates for the strategy's venues, then runs the strategy's
    whole cycle (all phases for a stateful strategy). While the strategy is paused a cycle
    opens nothing, so it is skipped (say so, and carry on until it is resumed).
    """
    from funding_service.collector import FundingCollector
    from strategies.factory import load_strategy_config
    from strategies.runtime import Runtime, venue_accounts

    if not config.exists():
        raise fail(f"{config}: no such strategy config file", EXIT_BAD_INPUT)
    strategy_config = load_strategy_config(config)
    name = strategy_config.name
    runtime = Runtime(configs={name: strategy_config})
    strategy = runtime.build(name, no_new_exposure=runtime.exposure_block(name))
    clients = {va.venue: runtime.exchange(va.venue) for va in venue_accounts(strategy_config)}
    collector = FundingCollector(clients, runtime.clock, runtime.engine)
    strategy.start()
    done = 0
    try:
        while cycles == 0 or done < cycles:
            collector.collect()
            done += 1
            console.print(f"cycle {done} {_one_cycle(runtime, name)}", highlight=False)
            if cycles == 0 or done < cycles:
                time.sleep(interval)
    except KeyboardInterrupt:
        console.print("interrupted")
    finally:
        strategy.stop()


def _one_cycle(runtime: Runtime, name: str) -> str:
    """One whole cycle of `name` unless it may take no new exposure; what happened, in words."""
    now = runtime.clock.now()
    blocked = runtime.exposure_block(name)
    if blocked is not None:
        return f"at {now.isoformat()}: skipped: no new exposure: {blocked}"
    from strategies.base_strategy import HaltRequested

    result = runtime.build(name).run_cycle(now)
    summary = result.to_json()
    status = "ok" if summary.get("ok", True) else f"error: {summary.get('error')}"
    for action in result.actions:  # what the strategy found it must not trade over
        if isinstance(action, HaltRequested):
            runtime.halt(action.strategy_name, action.rule, action.reason)
            status += f"; halted: {action.reason}"
    return f"at {summary.get('at', '')}: {status}"


@app.command()
@one_line_errors
def status(limit: int = typer.Option(10, "--limit", min=1, help="Rows per section.")) -> None:
    """Strategies, open positions (PnL, funding), recent tasks and transfers."""
    from cli.status import render_status

    console.print(render_status(limit))

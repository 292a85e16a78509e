"""Operations commands: halt (a manual circuit breaker), the metrics endpoint."""

from __future__ import annotations

import getpass

import typer

from cli.common import EXIT_BAD_INPUT, console, fail, one_line_errors

app = typer.Typer()


def scope_of(name: str | None, all_: bool, command: str) -> str:
    """The halt scope NAME or --all names; exactly one of them."""
    if (name is None) == (not all_):
        raise fail(f"{command}: give a strategy NAME or --all (not both)", EXIT_BAD_INPUT)
    return "*" if all_ else str(name)


@app.command()
@one_line_errors
def halt(
    name: str | None = typer.Argument(None, help="Strategy name (or --all)."),
    all_: bool = typer.Option(False, "--all", help="Halt every strategy."),
    reason: str = typer.Option("operator", "--reason", help="Why (shown wherever it halts)."),
    close_hedged: bool = typer.Option(
        False, "--close-hedged", help="Also close every open position (reduce-only)."
    ),
) -> None:
    """Halt NAME (or all): no new exposure until `resume --halt`.

    The halt is written at once (it holds even with no broker); then the halt task winds the
    strategy down under its lock, as pause does (and, with --close-hedged, enqueues a close
    of every open position). Halting a halted strategy keeps the first halt."""
    from strategies.components.breakers import BreakerKind
    from strategies.runtime import get_runtime
    from tasks.manual import ManualAction, ManualRequest, enqueue

    scope = scope_of(name, all_, "halt")
    runtime = get_runtime()
    if scope != "*":
        runtime.config(scope)  # ConfigError naming the strategy if unknown
    record = runtime.halt(scope, BreakerKind.MANUAL, reason)
    console.print(record.describe(), highlight=False)
    try:
        result = enqueue(ManualRequest(ManualAction.HALT, scope, None, reason, close_hedged))
    except Exception as exc:  # the halt stands; only the wind-down waits for a broker
        console.print(f"halted, but the wind-down task was not enqueued: {exc}", highlight=False)
        return
    console.print(f"enqueued perpbot.strategy.halt {scope} as task {result.id}")


def lift(scope: str, by: str | None) -> None:
    """`resume --halt`: lift the halt of `scope` (a strategy name or "*")."""
    from strategies.runtime import get_runtime

    runtime = get_runtime()
    if scope != "*":
        runtime.config(scope)
    lifted = runtime.lift_halt(scope, by or getpass.getuser())
    what = "all strategies" if scope == "*" else scope
    if lifted is None:
        console.print(f"{what}: no active halt to lift", highlight=False)
        return
    console.print(f"lifted: {lifted.describe()}", highlight=False)
    still = runtime.exposure_block(scope) if scope != "*" else None
    if still is not None:
        console.print(f"{scope} still takes no new exposure: {still}", highlight=False)


@app.command()
@one_line_errors
def metrics(
    host: str | None = typer.Option(None, "--host", help="Default: configs/ops.yaml metrics.host."),
    port: int | None = typer.Option(None, "--port", min=1, max=65535),
) -> None:
    """Serve Prometheus metrics (positions, exposure, PnL, phases, halts, transfers)."""
    from strategies.metrics import serve_forever
    from strategies.runtime import get_runtime

    runtime = get_runtime()
    config = runtime.ops_config.metrics
    serve_forever(runtime, host or config.host, port or config.port, console.print)

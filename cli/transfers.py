"""`trading_bot.py transfer ...`: request, watch and recover fund transfers.

Every command uses the runtime's transfer manager (`task_runtime()`: steps enqueued on
Celery). `create` stores the transfer (refusing bad input and non-allowlisted destinations
at once) and enqueues its first step on the `transfers` queue; the workers carry it on. `retry` and
`resolve` are the operator's recovery steps for FAILED and NEEDS_RECONCILE transfers (see
docs/transfers.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

import typer

from cli.common import EXIT_BAD_INPUT, console, fail, one_line_errors
from core.enums import FundsLocation, TransferStatus
from core.money import to_decimal
from strategies.components.transfer_types import (
    TransferManager,
    TransferNotFoundError,
    TransferRefusedError,
)

app = typer.Typer(
    help="Move funds between venues; list, retry and resolve transfers.", no_args_is_help=True
)


def _bad_input_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """A refused request or an unknown id is bad input (exit 2), named in one line."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (TransferRefusedError, TransferNotFoundError) as exc:
            raise fail(str(exc), EXIT_BAD_INPUT) from None

    return wrapper


def _manager() -> TransferManager:
    """The runtime's manager, enqueuing steps on Celery (imported late: `--help` stays fast)."""
    from tasks.transfer_dispatch import task_runtime

    return task_runtime().transfer_manager


def _transfer_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise fail(f"ID: {value!r} is not a transfer id (a UUID)", EXIT_BAD_INPUT) from None


def _amount(value: str, option: str) -> Any:
    try:
        return to_decimal(value, option)
    except ValueError as exc:
        raise fail(str(exc), EXIT_BAD_INPUT) from None


def _requested_amount(value: str) -> Decimal:
    """Any number, NaN and infinities included: the manager's policy refuses what it does not
    allow with the amount and the limit, for the CLI and every other caller alike."""
    try:
        return Decimal(value.strip())
    except InvalidOperation:
        raise fail(f"--amount: {value!r} is not a number", EXIT_BAD_INPUT) from None


def _describe(record: Any) -> str:
    where = record.funds_location.value + (f" ({record.funds_chain})" if record.funds_chain else "")
    line = (
        f"{record.id}  {record.status.value}  {record.from_venue}/{record.from_account} -> "
        f"{record.to_venue}/{record.to_account}  {record.amount.normalize():f} {record.asset}  "
        f"money at: {where}"
    )
    if record.last_error:
        line += f"\n  last error: {record.last_error}"
    return line


@app.command()
@one_line_errors
@_bad_input_errors
def create(
    source: str = typer.Option(..., "--from", help="Venue to take the money from."),
    target: str = typer.Option(..., "--to", help="Venue to bring it to."),
    amount: str = typer.Option(..., "--amount", help="Amount debited at the source."),
    asset: str | None = typer.Option(None, "--asset", help="Default: the venues' asset (USDC)."),
    reason: str | None = typer.Option(None, "--reason", help="Why (kept with the transfer)."),
    from_account: str = typer.Option("main", "--from-account"),
    to_account: str = typer.Option("main", "--to-account"),
) -> None:
    """Request a transfer and enqueue its first step."""
    result = _manager().request_transfer(
        source,
        target,
        _requested_amount(amount),
        asset=asset,
        from_account=from_account,
        to_account=to_account,
        reason=reason,
    )
    if result.created:
        console.print(
            f"created and enqueued:\n{_describe(result.record)}", highlight=False, soft_wrap=True
        )
    else:
        console.print(
            f"a transfer on this route is already in flight (not creating another):\n"
            f"{_describe(result.record)}",
            highlight=False,
            soft_wrap=True,
        )


@app.command("list")
@one_line_errors
def list_transfers(
    status: list[TransferStatus] | None = typer.Option(None, "--status", help="Repeatable."),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000),
) -> None:
    """The most recent transfers, newest first."""
    records = _manager().list(status or None, limit)
    for record in records:
        fees = f"fee {record.fee.normalize():f}"
        if record.received is not None:
            fees += f", received {record.received.normalize():f}"
        stamp = record.updated_at.strftime("%Y-%m-%d %H:%M:%S")
        console.print(
            f"{_describe(record)}\n  {fees}; updated {stamp}", highlight=False, soft_wrap=True
        )
    if not records:
        console.print("no transfers")


@app.command()
@one_line_errors
@_bad_input_errors
def retry(
    transfer_id: str = typer.Argument(..., metavar="ID"),
    note: str | None = typer.Option(None, "--note", help="What you checked or changed."),
) -> None:
    """Resume a FAILED transfer from where its money rests, or a NEEDS_RECONCILE one at its
    step (its key is looked up; if the venue or bridge does not know it, it is sent under the
    same key — only retry after checking it was not carried out)."""
    record = _manager().retry(_transfer_id(transfer_id), note)
    console.print(f"resumed and enqueued:\n{_describe(record)}", highlight=False, soft_wrap=True)


@app.command()
@one_line_errors
@_bad_input_errors
def resolve(
    transfer_id: str = typer.Argument(..., metavar="ID"),
    note: str = typer.Option(..., "--note", help="What was checked or done by hand."),
    outcome: str = typer.Option(
        ...,
        "--outcome",
        help="completed (money at the destination), cancelled (money back "
        "at the source) or failed (money elsewhere: give --location).",
    ),
    location: FundsLocation | None = typer.Option(None, "--location"),
    chain: str | None = typer.Option(None, "--chain", help="With --location wallet/in_flight_*."),
    received: str | None = typer.Option(None, "--received", help="Amount credited (completed)."),
) -> None:
    """Record how a FAILED / NEEDS_RECONCILE transfer was settled by hand."""
    amount = _amount(received, "--received") if received is not None else None
    record = _manager().resolve(
        _transfer_id(transfer_id), outcome, note, location=location, chain=chain, received=amount
    )
    console.print(f"resolved:\n{_describe(record)}", highlight=False, soft_wrap=True)


@app.command()
@one_line_errors
@_bad_input_errors
def cancel(
    transfer_id: str = typer.Argument(..., metavar="ID"),
    note: str | None = typer.Option(None, "--note"),
) -> None:
    """Cancel a transfer that has not started (PENDING)."""
    record = _manager().cancel(_transfer_id(transfer_id), note)
    console.print(f"cancelled:\n{_describe(record)}", highlight=False, soft_wrap=True)

"""`mwalerts streaks`: a window's failure streaks as the function keeps them (mwalerts.streaks),
read from the stack's streak table: which targets keep failing, since when, and how often."""

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from rich.text import Text

from mwalerts import contract
from mwalerts.errors import error_code
from mwalerts.streak_store import StreakStore
from mwalerts.streaks import CHRONIC_STREAK, Since, TargetStreak, WindowState
from mwalerts_cli import options
from mwalerts_cli.aws import Clients, Place
from mwalerts_cli.errors import USAGE, CliError
from mwalerts_cli.output import STATUS_STYLES, Column, Ui, utc
from mwalerts_cli.redrive import add_stack_argument, alerts_stack

NAME = "streaks"
SUMMARY = "a window's failure streaks: which targets keep failing, since when"
DESCRIPTION = """\
A window's failure streaks, read from the stack's streak table (nothing from SSM): its last
execution, since when it has been failing, and each target failing now with the execution its
streak started with, its consecutive failed executions and its last error, longest first.
Streaks start with the first execution the function handles after the stack has the table."""
EPILOG = """\
examples:
  mwalerts streaks --window-id mw-0ed7251d3fcf6e0c2
  mwalerts streaks --window-id mw-0ed7251d3fcf6e0c2 --output json | jq '.streaks[0]'
  mwalerts streaks --window-id mw-0ed7251d3fcf6e0c2 --profile monitoring --region eu-west-1 \\
      --window-account 222222222222 --window-region us-east-1

Central and organization mode: the table is the central stack's, so run the command with the
central account's credentials and region, and name the member's account and region with
--window-account and --window-region."""

COLUMNS = (
    Column("Target", limit=60),
    Column("Failing since (UTC)"),
    Column("Since execution"),
    Column("Failed in a row", right=True),
    Column("Last error", limit=100),
)
# What DynamoDB answers when the credentials may not read the table (or use its key).
ACCESS_DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied"})
TABLE_NOT_FOUND = "ResourceNotFoundException"


@dataclass(frozen=True)
class Streak:
    """A target failing now, as the command shows it."""

    target: str
    count: int  # consecutive failed executions up to the window's last one
    since: Since
    error: str


@dataclass(frozen=True)
class Where:
    """The table read and the window's place in it (its partition: streak_window_key)."""

    stack: str
    table: str
    window: Place
    window_id: str
    central: bool  # a central (or organization) stack: windows of other accounts

    @property
    def window_key(self) -> str:
        return contract.streak_window_key(self.window.account, self.window.region, self.window_id)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--window-id", type=options.window_id, metavar="ID", required=True, help="the window"
    )
    parser.add_argument(
        "--window-account",
        type=options.account_id,
        metavar="ACCOUNT",
        help="central mode: the member account the window is in (default: the credentials')",
    )
    parser.add_argument(
        "--window-region",
        type=options.region_name,
        metavar="REGION",
        help="central mode: the member region the window is in (default: the stack's region)",
    )
    add_stack_argument(parser)
    options.add_output_option(parser, "table", "json")


def run(args: argparse.Namespace, clients: Clients, ui: Ui) -> int:
    where = _where(args, clients, ui)
    state, stored = _load(StreakStore(where.table, clients.client("dynamodb")), where)
    if state is None:
        raise CliError(_nothing_recorded(where, args))
    streaks = current_streaks(state, stored)
    if args.output == "json":
        ui.json(as_json(where, state, streaks))
        return 0
    _print_state(ui, where, state)
    if streaks:
        ui.line()
        ui.table(COLUMNS, [_cells(streak) for streak in streaks])
        ui.line()
    ui.line(summary(streaks))
    return 0


def current_streaks(state: WindowState, stored: Mapping[str, TargetStreak]) -> list[Streak]:
    """The streaks running up to the window's last execution, longest first, then by target. A
    stored streak numbered after the window's state was written by an execution whose writes
    never finished (mwalerts.streak_store): it is not one."""
    streaks = [
        Streak(streak.target, streak.count(state.seq), streak.since, streak.error)
        for streak in stored.values()
        if streak.since.seq <= state.seq
    ]
    return sorted(streaks, key=lambda streak: (-streak.count, streak.target))


def summary(streaks: list[Streak]) -> str:
    """`3 targets failing: 2 for 2 or more executions in a row, the longest for 4.`"""
    if not streaks:
        return "No target is failing."
    chronic = sum(1 for streak in streaks if streak.count >= CHRONIC_STREAK)
    failing = f"{len(streaks):,} target{'s' if len(streaks) > 1 else ''} failing"
    if not chronic:
        return f"{failing}, all for the first time in a row."
    return (
        f"{failing}: {chronic:,} for {CHRONIC_STREAK} or more executions in a row, "
        f"the longest for {streaks[0].count:,}."
    )


def as_json(where: Where, state: WindowState, streaks: list[Streak]) -> dict[str, Any]:
    """The window's state and streaks, named as the digest names them (failingSince,
    consecutiveFailures)."""
    return {
        "account": where.window.account,
        "region": where.window.region,
        "windowId": where.window_id,
        "table": where.table,
        "lastExecution": {
            "windowExecutionId": state.last_execution_id,
            "startTime": state.last_start or None,
            "status": state.last_status,
        },
        "failing": state.failing,
        "failingSince": _since_json(state.failing_since),
        "failedExecutions": _failed_executions(state),
        "streaks": [
            {
                "target": streak.target,
                "consecutiveFailures": streak.count,
                "failingSince": _since_json(streak.since),
                "lastError": streak.error,
            }
            for streak in streaks
        ],
    }


def _where(args: argparse.Namespace, clients: Clients, ui: Ui) -> Where:
    """The stack's streak table, and the window's account and region (the credentials' and the
    stack's unless given)."""
    stack, outputs = alerts_stack(
        args.stack,
        clients,
        ui.info,
        wanted=(contract.OUTPUT_FUNCTION_NAME,),
        command="query",
        exit_code=USAGE,
    )
    table = outputs.get(contract.OUTPUT_STREAK_TABLE_NAME)
    if not table:
        raise CliError(
            f"stack {stack} has no {contract.OUTPUT_STREAK_TABLE_NAME} output: it was deployed "
            "by a version without failure streaks. Redeploy it; streaks start with the next "
            "execution the function handles.",
            USAGE,
        )
    account = args.window_account or clients.place.account
    region = args.window_region or clients.region
    return Where(
        stack,
        table,
        Place(account, region),
        args.window_id,
        central=contract.OUTPUT_EVENT_BUS_ARN in outputs,
    )


def _load(store: StreakStore, where: Where) -> tuple[WindowState | None, dict[str, TargetStreak]]:
    try:
        return store.load(where.window_key)
    except ClientError as error:
        code = error_code(error)
        message = error.response.get("Error", {}).get("Message", "")
        if code in ACCESS_DENIED_CODES:
            raise CliError(
                f"not allowed to read the streak table {where.table} ({code}: {message}). The "
                "command needs dynamodb:Query on it and kms:Decrypt on its key, with credentials "
                f"of the account stack {where.stack} is in."
            ) from None
        if code == TABLE_NOT_FOUND:
            raise CliError(
                f"the streak table {where.table} of stack {where.stack} was not found "
                f"({code}: {message}): was it deleted outside the stack?"
            ) from None
        raise


def _nothing_recorded(where: Where, args: argparse.Namespace) -> str:
    message = (
        f"no execution of {where.window_id} recorded yet in {where.window}: streaks start with "
        "the next execution the function handles"
    )
    if where.central and not (args.window_account and args.window_region):
        message += (
            f" (stack {where.stack} watches other accounts: pass the window's --window-account "
            "and --window-region)"
        )
    return message


def _print_state(ui: Ui, where: Where, state: WindowState) -> None:
    ui.line(Text(f"Window {where.window_id}", "bold").append(f" in {where.window}"))
    ui.line(
        Text("Last execution ")
        .append(state.last_execution_id)
        .append("  ")
        .append(state.last_status, STATUS_STYLES.get(state.last_status, ""))
        .append(f"  started {_when(state.last_start)} UTC")
    )
    since = state.failing_since
    if not state.failing or since is None:
        ui.line("Not failing: the last execution raised no alert.", style="green")
        return
    runs = _failed_executions(state)
    ui.line(
        f"Failing since {_when(since.time)} UTC (execution {since.window_execution_id}): "
        f"{runs:,} execution{'s' if runs > 1 else ''} in a row",
        style="bold red",
    )


def _cells(streak: Streak) -> tuple[str, ...]:
    return (
        streak.target,
        _when(streak.since.time),
        streak.since.window_execution_id,
        f"{streak.count:,}",
        streak.error or "-",
    )


def _failed_executions(state: WindowState) -> int:
    """The window's executions in a row that alerted, up to its last one (0: not failing)."""
    since = state.failing_since
    return state.seq - since.seq + 1 if state.failing and since is not None else 0


def _since_json(since: Since | None) -> dict[str, Any] | None:
    if since is None:
        return None
    return {"windowExecutionId": since.window_execution_id, "time": since.time}


def _when(text: str | None) -> str:
    """An ISO 8601 time as the commands show times: `2026-11-20 02:00:00` (UTC)."""
    if not text:
        return "-"
    try:
        return utc(datetime.fromisoformat(text))
    except ValueError:
        return text

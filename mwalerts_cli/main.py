"""`mwalerts`: the operator command line of maintenance-window-alerts.

Each command reuses the function's own code (the `mwalerts` package from lambda_src/) and AWS's
standard credential chain. Errors are one line on stderr and an exit code: 1 when AWS could not
answer (not found, throttled beyond the retries, refused), 2 when the command cannot start (bad
arguments, no credentials or region, a malformed event file).
"""

import argparse
import sys

from mwalerts_cli import history, preflight, redrive, replay, report, selftest, streaks
from mwalerts_cli.aws import Clients
from mwalerts_cli.options import Command, add_command
from mwalerts_cli.output import Ui
from mwalerts_cli.runner import add_aws_options, execute

# In the order `mwalerts --help` lists them.
COMMANDS: tuple[Command, ...] = (report, history, streaks, replay, redrive, preflight, selftest)

EPILOG = """\
examples:
  mwalerts report --window-id mw-0ed7251d3fcf6e0c2 --last --failed-only
  mwalerts history --window-id mw-0ed7251d3fcf6e0c2 --since 30d
  mwalerts streaks --window-id mw-0ed7251d3fcf6e0c2
  mwalerts replay event.json --dry-run
  mwalerts redrive --dry-run
  mwalerts preflight --profile prod
  mwalerts selftest --stack MaintenanceWindowAlerts --profile prod

`mwalerts COMMAND --help` describes each command."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mwalerts",
        description="Operator commands for maintenance-window-alerts: the answers the alert "
        "function computes, for any window execution, without waiting for an alert.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_aws_options(parser, None)
    # The same options after the command name (`mwalerts report --profile prod ...`); SUPPRESS
    # keeps a value given before the command from being reset by the command's default.
    common = argparse.ArgumentParser(add_help=False)
    add_aws_options(common, argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        add_command(commands, common, command)
    return parser


def main(
    argv: list[str] | None = None, *, clients: Clients | None = None, ui: Ui | None = None
) -> int:
    """Run one command; return its exit code. Tests hand in `clients` bound to in-process AWS
    and a `ui` of fixed width without colour."""
    return execute(build_parser().parse_args(argv), clients=clients, ui=ui)


if __name__ == "__main__":
    sys.exit(main())

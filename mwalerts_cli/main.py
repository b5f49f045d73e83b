"""`mwalerts`: the operator command line of maintenance-window-alerts.

Each command reuses the function's own code (the `mwalerts` package from lambda_src/) and AWS's
standard credential chain. Errors are one line on stderr and an exit code: 1 when AWS could not
answer (not found, throttled beyond the retries, refused), 2 when the command cannot start (bad
arguments, no credentials or region, a malformed event file).
"""

import argparse
import os
import sys

from botocore.exceptions import BotoCoreError, ClientError

from mwalerts_cli import history, redrive, replay, report
from mwalerts_cli.aws import Clients
from mwalerts_cli.collect import function_logs_silenced
from mwalerts_cli.errors import CliError, explain
from mwalerts_cli.output import Ui

EPILOG = """\
examples:
  mwalerts report --window-id mw-0ed7251d3fcf6e0c2 --last --failed-only
  mwalerts history --window-id mw-0ed7251d3fcf6e0c2 --since 30d
  mwalerts replay event.json --dry-run
  mwalerts redrive --dry-run

`mwalerts COMMAND --help` describes each command."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mwalerts",
        description="Operator commands for maintenance-window-alerts: the answers the alert "
        "function computes, for any window execution, without waiting for an alert.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_aws_options(parser, None)
    # The same options after the command name (`mwalerts report --profile prod ...`); SUPPRESS
    # keeps a value given before the command from being reset by the command's default.
    common = argparse.ArgumentParser(add_help=False)
    _add_aws_options(common, argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    report.add_parser(commands, common)
    history.add_parser(commands, common)
    replay.add_parser(commands, common)
    redrive_parser = commands.add_parser(
        "redrive",
        parents=[common],
        help="send dead-lettered events back through the deployed function",
        description=(redrive.__doc__ or "").split("\n\n")[0],
    )
    redrive.add_arguments(redrive_parser)
    return parser


def _add_aws_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--profile",
        default=default,
        help="AWS profile (default: the standard credential chain: AWS_PROFILE, SSO, "
        "environment variables, instance role)",
    )
    parser.add_argument(
        "--region", default=default, help="AWS region (default: the profile's or AWS_REGION)"
    )


def main(
    argv: list[str] | None = None, *, clients: Clients | None = None, ui: Ui | None = None
) -> int:
    """Run one command; return its exit code. Tests hand in `clients` bound to in-process AWS
    and a `ui` of fixed width without colour."""
    args = build_parser().parse_args(argv)
    ui = ui or Ui.for_terminal()
    try:
        # The function's modules log through Powertools; none of it belongs in this output.
        with function_logs_silenced():
            clients = clients or Clients.from_chain(profile=args.profile, region=args.region)
            if args.command == "redrive":
                return redrive.run(args, clients.client)
            exit_code: int = args.run(args, clients, ui)
            return exit_code
    except CliError as error:
        ui.error(error.message)
        return error.exit_code
    except (BotoCoreError, ClientError) as error:
        explained = explain(error)
        assert explained is not None  # every SDK error has an explanation
        ui.error(explained.message)
        return explained.exit_code
    except KeyboardInterrupt:
        ui.error("interrupted")
        return 130
    except BrokenPipeError:
        # The reader left (`mwalerts report ... | head`): not an error worth a traceback. Python
        # would still fail flushing stdout at exit, so it is pointed at /dev/null first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""Running one parsed command: its AWS clients, and any failure as one line and an exit code.

Shared by `mwalerts` (mwalerts_cli.main) and `python -m mwalerts_cli.redrive` (`make redrive`),
so both report errors alike: 1 when AWS could not answer, 2 when the command cannot start.
"""

import argparse
import os
import sys

from botocore.exceptions import BotoCoreError, ClientError

from mwalerts_cli.aws import Clients
from mwalerts_cli.collect import function_logs_silenced
from mwalerts_cli.errors import CliError, explain
from mwalerts_cli.output import Ui


def add_aws_options(parser: argparse.ArgumentParser, default: object = None) -> None:
    parser.add_argument(
        "--profile",
        default=default,
        help="AWS profile (default: the standard credential chain: AWS_PROFILE, SSO, "
        "environment variables, instance role)",
    )
    parser.add_argument(
        "--region", default=default, help="AWS region (default: the profile's or AWS_REGION)"
    )


def execute(
    args: argparse.Namespace, *, clients: Clients | None = None, ui: Ui | None = None
) -> int:
    """Run `args.run(args, clients, ui)`; return its exit code, or the failure's."""
    ui = ui or Ui.for_terminal()
    try:
        # The function's modules log through Powertools; none of it belongs in this output.
        with function_logs_silenced():
            clients = clients or Clients.from_chain(profile=args.profile, region=args.region)
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

"""Running one parsed command: its AWS clients, the function's logs kept out of its output, and
any failure as one line and an exit code.

Shared by `mwalerts` (mwalerts_cli.main) and `python -m mwalerts_cli.redrive` (`make redrive`),
so both report errors alike: 1 when AWS could not answer, 2 when the command cannot start.
"""

import argparse
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from mwalerts import contract
from mwalerts_cli.aws import Clients
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


@contextmanager
def function_logs_silenced() -> Iterator[None]:
    """Keep the function's Powertools log records out of the command's output.

    The function's modules log through child loggers (`maintenance-window-alerts.<module>`) that
    have their own level (INFO), so raising the parent's level does not stop them: with no
    handler above them Python's last-resort handler prints their warnings to stderr, and where
    the function's logger exists (tests) its handler prints JSON to stdout. So each logger of
    that tree is raised above CRITICAL for the command, and restored after.
    """
    # Only loggers that exist: creating one (getLogger) where the tree has a placeholder would
    # become the parent of the function's child loggers, which then lose the function's handler.
    loggers = [
        logger
        for name, logger in list(logging.root.manager.loggerDict.items())
        if (name == contract.SERVICE_NAME or name.startswith(contract.SERVICE_NAME + "."))
        and isinstance(logger, logging.Logger)
    ]
    levels = [(logger, logger.level) for logger in loggers]
    for logger, _ in levels:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in levels:
            logger.setLevel(level)

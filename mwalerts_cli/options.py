"""The commands' parsers, and the arguments they share, checked when parsed so that a typo fails
before any AWS call (with the stack's own rules, from mwalerts.contract, where it has the same
setting)."""

import argparse
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from mwalerts import contract, pacing
from mwalerts.pipeline import AlertRules
from mwalerts_cli.aws import Clients
from mwalerts_cli.output import Ui

_AGO = re.compile(r"^([0-9]+)([dh])$")

# SSM's rate is the account's, shared with Patch Manager, schedulers and people's scripts (and it
# publishes no figure for these APIs): a command reading history takes a small share by default.
DEFAULT_MAX_RATE = 5.0


def window_id(text: str) -> str:
    if not re.fullmatch(contract.WINDOW_ID_PATTERN, text):
        raise argparse.ArgumentTypeError(f"not a window ID (mw- and 17 hex digits): {text!r}")
    return text


def account_id(text: str) -> str:
    if not re.fullmatch(contract.ACCOUNT_ID_PATTERN, text):
        raise argparse.ArgumentTypeError(f"not an AWS account ID (12 digits): {text!r}")
    return text


def region_name(text: str) -> str:
    if not re.fullmatch(contract.REGION_PATTERN, text):
        raise argparse.ArgumentTypeError(f"not an AWS region name (such as eu-west-1): {text!r}")
    return text


def execution_id(text: str) -> str:
    if not re.fullmatch(contract.EXECUTION_ID_PATTERN, text):
        raise argparse.ArgumentTypeError(f"not a window execution ID (a UUID): {text!r}")
    return text


def statuses(text: str) -> frozenset[str]:
    """`FAILED,TIMED_OUT`: the statuses that count as a failure, as the stack's alertStatuses."""
    return frozenset(_checked(contract.alert_status_list, text))


def error_details(text: str) -> int:
    """As the stack's errorDetailsLimit."""
    return _checked(lambda raw: contract.error_details_limit(contract.whole_number(raw)), text)


def moment(text: str, now: datetime | None = None) -> datetime:
    """`30d` or `12h` ago, or an ISO 8601 date or time (UTC unless it says otherwise; a date
    alone means its 00:00 UTC)."""
    now = now or datetime.now(UTC)
    ago = _AGO.fullmatch(text.strip())
    if ago:
        amount, unit = int(ago.group(1)), ago.group(2)
        return now - (timedelta(days=amount) if unit == "d" else timedelta(hours=amount))
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a time ago such as 30d or 12h, or an ISO 8601 time, got {text!r}"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def max_rate(text: str) -> float:
    """Requests a second: more than 0, at most the function's own ceiling."""
    try:
        rate = float(text)
    except ValueError:
        rate = float("nan")
    if not 0 < rate <= pacing.MAX_RATE_CEILING:
        raise argparse.ArgumentTypeError(
            f"expected requests a second, more than 0 and at most {pacing.MAX_RATE_CEILING:g}, "
            f"got {text!r}"
        )
    return rate


def namespace(text: str) -> str:
    """As the stack's metricsNamespace."""
    return _checked(contract.metrics_namespace, text)


_Parsed = TypeVar("_Parsed")


def _checked(rule: Callable[[str], _Parsed], text: str) -> _Parsed:
    """One of mwalerts.contract's rules, its message after the option's name (argparse's
    "argument --namespace: 'AWS/SSM' is not a valid custom CloudWatch namespace: ...")."""
    try:
        return rule(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


class Command(Protocol):
    """A command's module (mwalerts_cli.report, history, replay, redrive): its name, help texts,
    options and what it runs."""

    NAME: str
    SUMMARY: str
    DESCRIPTION: str
    EPILOG: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace, clients: Clients, ui: Ui) -> int: ...


def add_command(commands: Any, common: argparse.ArgumentParser, command: Command) -> None:
    """The command's parser, with the options all commands share (`common`), and its `run`."""
    parser: argparse.ArgumentParser = commands.add_parser(
        command.NAME,
        parents=[common],
        help=command.SUMMARY,
        description=command.DESCRIPTION,
        epilog=command.EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_arguments(parser)
    parser.set_defaults(run=command.run)


def add_output_option(parser: argparse.ArgumentParser, *formats: str) -> None:
    """--output, the first format the default."""
    parser.add_argument(
        "--output", choices=formats, default=formats[0], help="(default: %(default)s)"
    )


def add_rate_option(parser: argparse.ArgumentParser) -> None:
    """--max-rate: the command's SSM calls, paced as the function's are, never faster."""
    parser.add_argument(
        "--max-rate",
        type=max_rate,
        default=DEFAULT_MAX_RATE,
        metavar="N",
        help="SSM requests a second at most, so the command leaves the account's shared SSM "
        "rate to its other tools; fewer when SSM throttles (default: %(default)g)",
    )


def add_alert_options(parser: argparse.ArgumentParser) -> None:
    """What decides the alert: the stack's settings, given here as the stack was deployed."""
    parser.add_argument(
        "--alert-statuses",
        type=statuses,
        default=frozenset(contract.DEFAULT_ALERT_STATUSES),
        metavar="S,S",
        help="invocation statuses that count as a failure, as the stack's alertStatuses "
        f"(default: {','.join(contract.DEFAULT_ALERT_STATUSES)})",
    )


def add_digest_options(parser: argparse.ArgumentParser) -> None:
    add_alert_options(parser)
    parser.add_argument(
        "--error-details",
        type=error_details,
        default=contract.DEFAULT_ERROR_DETAILS_LIMIT,
        metavar="N",
        help="failed Run Command invocations whose exit code and error output are read, as the "
        "stack's errorDetailsLimit (default: %(default)s)",
    )
    parser.add_argument(
        "--log-group",
        metavar="NAME",
        help="the function's log group, for the digest's Logs Insights link (links.failures); "
        "without it the link is null, where the function's digest has it",
    )


def alert_rules(args: argparse.Namespace) -> AlertRules:
    """The alert rules given by `add_digest_options`' options."""
    return AlertRules(
        alert_statuses=args.alert_statuses,
        error_details_limit=args.error_details,
        log_group_name=args.log_group,
    )

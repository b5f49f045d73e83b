"""Arguments the commands share, checked when parsed so that a typo fails before any AWS call."""

import argparse
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from mwalerts import contract

_AGO = re.compile(r"^([0-9]+)([dh])$")


def window_id(text: str) -> str:
    if not re.fullmatch(contract.WINDOW_ID_PATTERN, text):
        raise argparse.ArgumentTypeError(f"not a window ID (mw- and 17 hex digits): {text!r}")
    return text


def execution_id(text: str) -> str:
    if not re.fullmatch(contract.EXECUTION_ID_PATTERN, text):
        raise argparse.ArgumentTypeError(f"not a window execution ID (a UUID): {text!r}")
    return text


def statuses(text: str) -> frozenset[str]:
    """`FAILED,TIMED_OUT`: the statuses that count as a failure, as the stack's alertStatuses."""
    found = frozenset(part.strip().upper() for part in text.split(",") if part.strip())
    unknown = sorted(found - set(contract.ALL_STATUSES))
    if not found or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown status(es) {', '.join(unknown) or '(none given)'}; "
            f"valid: {', '.join(contract.ALL_STATUSES)}"
        )
    return found


def error_details(text: str) -> int:
    if not text.isdigit() or int(text) > contract.MAX_ERROR_DETAILS_LIMIT:
        raise argparse.ArgumentTypeError(
            f"a whole number from 0 to {contract.MAX_ERROR_DETAILS_LIMIT}, got {text!r}"
        )
    return int(text)


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


def namespace(text: str) -> str:
    if not re.match(contract.CUSTOM_NAMESPACE_PATTERN, text):
        raise argparse.ArgumentTypeError(
            "not a custom CloudWatch namespace (1 to 255 characters, not starting with AWS/): "
            f"{text!r}"
        )
    return text


def add_command(
    commands: Any,
    common: argparse.ArgumentParser,
    name: str,
    *,
    summary: str,
    description: str,
    epilog: str,
    run: Callable[..., int],
) -> argparse.ArgumentParser:
    """A command's parser, with the options all commands share (`common`) and its `run`."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        parents=[common],
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=run)
    return parser


def add_output_option(parser: argparse.ArgumentParser, *formats: str) -> None:
    """--output, the first format the default."""
    parser.add_argument(
        "--output", choices=formats, default=formats[0], help="(default: %(default)s)"
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

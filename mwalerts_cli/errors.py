"""What can go wrong in a command, said in words an operator can act on, with an exit code.

Exit codes: 0 done; 1 AWS could not answer (not found, throttled, refused); 2 the command cannot
start (bad arguments, no credentials or region, a malformed event file).
"""

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    CredentialRetrievalError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)

from mwalerts.errors import error_code

USAGE = 2
AWS_FAILED = 1

# Error codes AWS throttles with (the ones botocore's retry mode treats as throttling); reaching
# the caller means the SSM client's pacer stopped retrying (mwalerts.pacing.MAX_WAIT), or another
# client's retries (10 attempts, adaptive mode) ran out.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
    }
)
# The credentials were found but AWS does not accept them: the same fix as having none.
REJECTED_CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "AuthFailure",
    }
)
_NO_CREDENTIALS = (
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    CredentialRetrievalError,
    TokenRetrievalError,
    SSOError,
)


class CliError(Exception):
    """A failure the command reports as one line on stderr, exiting with `exit_code`."""

    def __init__(self, message: str, exit_code: int = AWS_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def explain(error: Exception) -> CliError | None:
    """The CliError for an AWS SDK error; None for anything else (a bug: let it show)."""
    if isinstance(error, _NO_CREDENTIALS):
        return CliError(
            f"no AWS credentials: {error}. Configure the standard chain (--profile, AWS_PROFILE, "
            "`aws sso login`, environment variables or an instance role).",
            USAGE,
        )
    if isinstance(error, NoRegionError):
        return CliError("no AWS region: pass --region or set AWS_REGION.", USAGE)
    if isinstance(error, ConnectionError):
        return CliError(f"could not reach AWS: {error}")
    if isinstance(error, BotoCoreError):
        return CliError(str(error))
    return _client_error(error) if isinstance(error, ClientError) else None


def _client_error(error: ClientError) -> CliError:
    code = error_code(error)
    message = error.response.get("Error", {}).get("Message", "")
    if code in THROTTLING_CODES:
        attempts = error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) + 1
        return CliError(
            f"AWS kept throttling {error.operation_name} ({code}: {message}) after {attempts} "
            "attempts. Wait a few minutes and try again, or run it when fewer tools call the API."
        )
    if code in REJECTED_CREDENTIAL_CODES:
        return CliError(f"AWS rejected the credentials ({code}): {message}", USAGE)
    return CliError(f"{error.operation_name} failed: {code}: {message}")

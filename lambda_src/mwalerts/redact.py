"""Redacting secrets from command output before it is quoted in an alert or a log line."""

import re
from collections.abc import Iterable

REDACTED = "[REDACTED]"

# What secrets look like in command output: key=value and key: value pairs with a secret-sounding
# key, bearer tokens, AWS access keys, private key blocks, credentials in URLs and JWTs.
_PATTERNS = (
    re.compile(
        r"(?i)\b((?:[a-z0-9_.-]*)(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|"
        r"access[_-]?key|private[_-]?key|credential|auth)[a-z0-9_.-]*)"
        r"(\s*[:=]\s*)((?:(?:bearer|basic)\s+)?(?:\"[^\"]*\"|'[^']*'|\S+))"
    ),
    re.compile(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9._~+/=-]{8,})"),
)
_WHOLE = (
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S
    ),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b"),
)
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@")


def redact(text: str, sensitive: Iterable[str] = ()) -> str:
    """`text` with secret-looking values, and every `sensitive` literal (the invocation's own
    parameter values, which a failing command may echo), replaced by [REDACTED]."""
    for literal in sorted(set(sensitive), key=len, reverse=True):
        text = text.replace(literal, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    for pattern in _WHOLE:
        text = pattern.sub(REDACTED, text)
    return _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)

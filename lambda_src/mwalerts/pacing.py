"""Pacing SSM calls to the rate the account's shared limit accepts, and retrying throttling until
the deadline rather than for a fixed number of attempts.

SSM limits each API's request rate per account and region, and every tool in the account draws
on that budget. botocore's adaptive mode backs off exponentially on each throttled attempt (up to
20 s a retry) and gives up after a fixed number of attempts; under a herd of invocations that
leaves most of the budget unused and can fail an alert that had minutes left.

The algorithm (one `Pacer` per SSM client, so per account-region and per container; the page
chains of an invocation share it). Every attempt, retries included, takes the next free send
slot, slots being 1/rate apart; it waits for its slot before it is signed. The rate is adjusted
from SSM's answers, as TCP adjusts its window. Until the first throttle each success adds
SLOW_START_STEP requests a second (the rate grows about e-fold a second: slow start). A
throttled attempt whose slot was taken after the last cut sets the ceiling to the rate then in force
and cuts the rate by CUT; later throttles of attempts already in flight at the old rate do not
cut again. After a cut the rate climbs back towards the ceiling quickly (RECOVERY of the gap per
second), then probes above it slowly (PROBE of the ceiling per second, plus a fixed amount, which
makes several clients sharing one bucket converge on equal shares). A client idle for IDLE_RESET
forgets its ceiling, so a night's herd does not slow the next day's lone window. A throttled
attempt is retried at once (its slot is the wait); any other error botocore's standard mode
classes as retryable is retried after its exponential backoff with jitter. Either is retried only
while the retry can start before the deadline: the invocation's (Lambda's remaining time minus a
reserve for publishing), or without one MAX_WAIT after the call's first attempt.
"""

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.retries import standard

# Slow start: each success adds this many requests a second to the rate.
SLOW_START_STEP = 1.0
# A throttle whose attempt was sent after the last cut multiplies the rate by this.
CUT = 0.7
# Between throttles the rate grows by this share of itself per second, plus PROBE_STEP requests/s
# (the fixed part makes clients sharing one bucket converge on equal shares).
PROBE = 0.05
PROBE_STEP = 0.1
# This long without a throttle, the client is back in slow start: capacity freed by others (the
# herd's other invocations finishing) is taken within seconds, not minutes.
QUIET = 3.0
# Bounds of the rate (requests per second). MIN_RATE keeps a herd of hundreds moving.
MIN_RATE = 0.05
START_RATE = 10.0
DEFAULT_MAX_RATE = 100.0
# Idle this long, a client starts again from at least START_RATE.
IDLE_RESET = 60.0
# Without a deadline (the operator command), a call's retries stop this long after its first try.
MAX_WAIT = 300.0
# A waiting attempt looks again at least this often, so a rate that grew is used at once.
_NAP = 0.05
# Growth is computed over at most this much time: a pause between calls is not growth.
_MAX_GROWTH_STEP = 1.0

# In the request context: how many cuts there had been when the attempt was sent, and when the
# call's first attempt was.
_CUTS = "mwalerts_pacer_cuts"
_FIRST = "mwalerts_pacer_first"

_Client = TypeVar("_Client")


@dataclass
class PacerStats:
    sent: int = 0  # attempts that took a slot
    throttled: int = 0  # attempts SSM answered with throttling
    retried: int = 0  # attempts retried (throttling or another retryable error)
    gave_up: int = 0  # retryable errors not retried: the deadline was too near


class Pacer:
    """A client-side send rate shared by every thread using one client (see the module's doc)."""

    def __init__(
        self,
        *,
        max_rate: float = DEFAULT_MAX_RATE,
        start_rate: float = START_RATE,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if max_rate <= 0:
            raise ValueError("max_rate must be positive")
        self.max_rate = max_rate
        self._start_rate = min(start_rate, max_rate)
        self._clock = clock or _monotonic
        self._sleep = sleep or _sleep
        self._lock = threading.Lock()
        self.rate = self._start_rate
        self.slow_start = True  # until the first throttle, and again after QUIET without one
        self._sent_at = float("-inf")  # when the last attempt was sent
        self._cuts = 0
        self._cut_at = float("-inf")
        self._grown_at: float | None = None
        self.deadline: float | None = None  # on the clock's scale; None: MAX_WAIT per call
        self.stats = PacerStats()
        self._adapter = standard.RetryEventAdapter()
        self._throttling = standard.ThrottlingErrorDetector(self._adapter)
        # Retryable as botocore's standard mode decides; attempts are bounded by time instead.
        self._retryable = standard.StandardRetryConditions(max_attempts=2**31)
        self._backoff = standard.ExponentialBackoff()

    def limit(self, max_rate: float) -> None:
        """Never send faster than `max_rate` requests a second (e.g. the command's --max-rate)."""
        if max_rate <= 0:
            raise ValueError("max_rate must be positive")
        with self._lock:
            self.max_rate = max_rate
            self._start_rate = min(self._start_rate, max_rate)
            self.rate = min(self.rate, max_rate)

    def finish_within(self, seconds: float | None) -> None:
        """Retry only while a retry can start within `seconds` from now (None: MAX_WAIT after
        each call's first attempt)."""
        self.deadline = None if seconds is None else self._clock() + seconds

    def install(self, client: _Client) -> _Client:
        """Pace `client` (made with retries mode "standard") and let this pacer decide its
        retries in place of botocore's handler. Returns the client."""
        meta: Any = getattr(client, "meta")  # noqa: B009 - typed stubs differ per service
        events = meta.events
        service = meta.service_model.service_id.hyphenize()
        events.unregister(f"needs-retry.{service}", unique_id=f"retry-config-{service}")
        # Unique IDs are per emitter, not per event: each handler needs its own.
        events.register(f"needs-retry.{service}", self._needs_retry, unique_id=f"pacer-{service}")
        events.register(f"before-sign.{service}", self._wait_turn, unique_id=f"turn-{service}")
        _PACERS[client] = self
        return client

    # -- sending ----------------------------------------------------------------------------

    def _wait_turn(self, request: Any, **_: Any) -> None:
        """Block until 1/rate after the last attempt (at the rate in force now), then send."""
        while True:
            with self._lock:
                now = self._clock()
                if now - self._sent_at > IDLE_RESET:
                    self.rate = max(self.rate, self._start_rate)
                    self.slow_start = True
                wait = self._sent_at + 1.0 / self.rate - now
                if wait <= 0:
                    # A late wake-up is made up, but by at most one interval: no bursts.
                    self._sent_at = max(now - 1.0 / self.rate, self._sent_at + 1.0 / self.rate)
                    self.stats.sent += 1
                    request.context[_CUTS] = self._cuts
                    request.context.setdefault(_FIRST, now)
                    return
            self._sleep(min(wait, _NAP))

    # -- answers ----------------------------------------------------------------------------

    def _needs_retry(self, request_dict: dict[str, Any], **kwargs: Any) -> float | None:
        context = request_dict["context"]
        retry = self._adapter.create_retry_context(request_dict=request_dict, **kwargs)
        if self._throttling.is_throttling_error_from_context(retry):
            self._throttled(context.get(_CUTS, self._cuts))
            delay = 0.0  # the retry waits for its turn at the cut rate
        elif not self._retryable.is_retryable(retry):
            if kwargs.get("caught_exception") is None and _succeeded(kwargs.get("response")):
                self._succeeded()
            return None
        else:
            delay = self._backoff.delay_amount(retry)
        deadline = self.deadline
        if deadline is None:
            deadline = context.get(_FIRST, self._clock()) + MAX_WAIT
        with self._lock:
            if self._clock() + delay + 1.0 / self.rate > deadline:
                self.stats.gave_up += 1
                return None
            self.stats.retried += 1
        return delay

    def _throttled(self, cuts_when_sent: int) -> None:
        with self._lock:
            self.stats.throttled += 1
            if cuts_when_sent != self._cuts:
                return  # sent before the last cut, at the old rate: that cut answered it
            self.rate = max(MIN_RATE, self.rate * CUT)
            self.slow_start = False
            self._cuts += 1
            self._cut_at = self._grown_at = self._clock()

    def _succeeded(self) -> None:
        with self._lock:
            now = self._clock()
            if not self.slow_start and now - self._cut_at > QUIET:
                self.slow_start = True
            if self.slow_start:
                self.rate = min(self.max_rate, self.rate + SLOW_START_STEP)
                return
            step = min(_MAX_GROWTH_STEP, now - (self._grown_at or now))
            self._grown_at = now
            self.rate = min(self.max_rate, self.rate + (self.rate * PROBE + PROBE_STEP) * step)


# Looked up at each call, so that tests can put the module on virtual time.
def _monotonic() -> float:
    return time.monotonic()


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _succeeded(response: Any) -> bool:
    """An HTTP answer below 300 (a response is (http_response, parsed), or None on no answer)."""
    return response is not None and response[0].status_code < 300


# The pacer of each paced client: the invocation gives it its deadline; tests and the bench read it.
_PACERS: "weakref.WeakKeyDictionary[Any, Pacer]" = weakref.WeakKeyDictionary()


def pacer_of(client: object) -> Pacer | None:
    return _PACERS.get(client)

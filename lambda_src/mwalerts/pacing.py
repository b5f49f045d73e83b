"""Pacing SSM calls to the rate the account's shared limit accepts, and retrying throttling until
the deadline rather than for a fixed number of attempts.

SSM limits each API's request rate per account and region, and every tool in the account draws
on that budget. botocore's adaptive mode backs off exponentially on each throttled attempt (up to
20 s a retry) and gives up after a fixed number of attempts; under a rate limit that leaves much
of the budget unused and can fail an alert that had minutes left.

The algorithm (one `Pacer` per SSM client, so per account-region and per container; the page
chains of an invocation share it). Until SSM first throttles, attempts go out as fast as the
threads send them (no limit is known, and most nights none is met), or at max_rate if one is
set. The first throttle sets the rate to CUT times the rate the threads were sending at. From
then on every attempt, retries included, waits for its turn before it is signed, turns being
1/rate apart at the rate in force when it looks again. While FAR_OVER of the last answers are
throttles, a throttle of an attempt sent after the last cut cuts the rate by CUT again (throttles
of attempts already in flight at the old rate do not); below that, at most once per
CALM_CUT_INTERVAL, so throttling that is not about the rate does not slow it to nothing. Between
throttles the rate grows by PROBE of itself per second plus PROBE_STEP, the fixed
part making clients that share one bucket converge on equal shares; after QUIET seconds without
a throttle each success adds SLOW_START_STEP (slow start, about e-fold a second), so capacity the
herd's finished invocations free is taken within seconds. Idle for IDLE_RESET, a client forgets
its rate. A throttled attempt is retried at its next turn (the cut is its backoff); any other
error botocore's standard mode classes as retryable is retried after botocore's exponential
backoff with jitter. Either is retried, and a turn is waited for, only while it can come before
the deadline: the invocation's (Lambda's remaining time less a reserve for publishing), or
without one MAX_WAIT after the call's first attempt; past it the call fails as throttled.
"""

import itertools
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from botocore.retries import standard

# Slow start: each success adds this many requests a second to the rate.
SLOW_START_STEP = 1.0
# The first throttle sets the rate to this share of the attempts sent in the last second; each
# throttle of an attempt sent after the last cut multiplies the rate by it.
CUT = 0.7
# Between throttles the rate grows by this share of itself per second, plus PROBE_STEP requests/s
# (the fixed part makes clients sharing one bucket converge on equal shares).
PROBE = 0.05
PROBE_STEP = 0.1
# This long without a throttle, the client is back in slow start: capacity freed by others (the
# herd's other invocations finishing) is taken within seconds, not minutes.
QUIET = 3.0
# The lowest rate (requests per second): it keeps a herd of hundreds moving, and a turn (10 s)
# fits in the invocation's reserve for publishing (mwalerts.invocation.PACING_RESERVE_MS).
MIN_RATE = 0.1
# The highest rate the operator command may be given (its --max-rate); the function has none.
MAX_RATE_CEILING = 100.0
# Idle this long, a client forgets its rate: a night's herd does not slow the next lone window.
IDLE_RESET = 60.0
# Without a deadline (the operator command), a call's retries stop this long after its first try.
MAX_WAIT = 300.0
# The first in line looks again at least this often (or at its turn if sooner), so a rate that
# grew is used at once.
_NAP = 0.05
# While at least this share of the last answers are throttles, the client is far over the rate
# SSM accepts: each throttle of an attempt sent after the last cut cuts again (about once a
# round trip). Below it (near the rate, or throttling that is not about rate at all, which
# slowing down would not cure), by CALM_CUT, at most once per CALM_CUT_INTERVAL and not in the
# first CALM_CUT_INTERVAL of a client's work.
FAR_OVER = 0.5
CALM_CUT_INTERVAL = 2.0
CALM_CUT = 0.9
# Answers the share is taken over, and the fewest it is judged on.
_ANSWERS_KEPT = 20
_ANSWERS_JUDGED = 10
# The send rate at the first throttle is measured over at least this long (a client that just
# started sent its first attempts all at once: as fast as its threads go).
_SHORTEST_SPAN = 0.02
# Growth is computed over at most this much time: a pause between calls is not growth.
_MAX_GROWTH_STEP = 1.0
# Send times kept: enough to count a second's attempts at any rate the threads reach.
_SENT_KEPT = 512

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
        max_rate: float | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._clock = clock or _monotonic
        self._sleep = sleep or _sleep
        self._lock = threading.Lock()
        self._turns = threading.Condition(self._lock)  # notified when the first in line goes
        self.max_rate: float | None = None
        self.rate: float | None = None  # None: not paced (no throttle yet), but for max_rate
        if max_rate is not None:
            self.limit(max_rate)
        self.slow_start = False  # after QUIET seconds without a throttle
        self._sent: deque[float] = deque(maxlen=_SENT_KEPT)  # when the last attempts were sent
        self._answers: deque[bool] = deque(maxlen=_ANSWERS_KEPT)  # the last: throttled or not
        self._tickets = itertools.count()  # attempts take turns in the order they came
        self._waiting: deque[int] = deque()  # the tickets of the attempts waiting, in order
        self._cuts = 0
        self._cut_at = float("-inf")
        self._started_at = float("-inf")  # the first attempt, or the first after an idle spell
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
            if self.rate is not None:
                self.rate = min(self.rate, max_rate)

    def finish_within(self, seconds: float | None) -> None:
        """Retry only while a retry can start within `seconds` from now (None: MAX_WAIT after
        each call's first attempt)."""
        self.deadline = None if seconds is None else self._clock() + seconds

    def install(self, client: _Client) -> _Client:
        """Pace `client` (made with retries mode "standard") and let this pacer decide its
        retries in place of botocore's handler. Returns the client."""
        meta: Any = getattr(client, "meta")  # noqa: B009 - typed stubs differ per service
        if client in _PACERS:
            raise ValueError("this client is paced already")
        events = meta.events
        service = meta.service_model.service_id.hyphenize()
        events.unregister(f"needs-retry.{service}", unique_id=f"retry-config-{service}")
        # Unique IDs are per emitter, not per event: each handler needs its own.
        events.register(f"needs-retry.{service}", self._needs_retry, unique_id=f"pacer-{service}")
        events.register(f"before-sign.{service}", self._wait_turn, unique_id=f"turn-{service}")
        _PACERS[client] = self
        return client

    # -- sending ----------------------------------------------------------------------------

    def _wait_turn(self, request: Any, operation_name: str = "", **_: Any) -> None:
        """Block until 1/rate after the last attempt (at the rate in force now), in the order the
        attempts came (a retry queues again), then send; fail as throttled if that turn would
        come after the deadline. Only the first in line naps: those behind it sleep until it
        has gone, rather than all waking 1/_NAP times a second to find it is not their turn."""
        with self._lock:
            ticket = next(self._tickets)
            self._waiting.append(ticket)
        try:
            while (wait := self._took_turn(ticket, request, operation_name)) is not None:
                self._sleep(min(_NAP, wait))
        finally:
            with self._lock:
                self._waiting.remove(ticket)
                self._turns.notify_all()

    def _took_turn(self, ticket: int, request: Any, operation_name: str) -> float | None:
        """Take the turn (None), or how long until it comes."""
        with self._lock:
            while (self.rate or self.max_rate) is not None and self._waiting[0] != ticket:
                self._turns.wait()
            now = self._clock()
            last = self._sent[-1] if self._sent else float("-inf")
            if now - last > IDLE_RESET:
                self.rate = None
                self._started_at = now
            rate = self.rate or self.max_rate
            wait = 0.0 if rate is None else last + 1.0 / rate - now
            if self.deadline is not None and now + wait > self.deadline:
                self.stats.gave_up += 1
                raise _no_turn(operation_name)
            if wait > 0:
                return wait
            # A late wake-up is made up, but by at most one interval: no bursts.
            sent = now if rate is None else max(now - 1.0 / rate, last + 1.0 / rate)
            self._sent.append(sent)
            self.stats.sent += 1
            request.context[_CUTS] = self._cuts
            request.context.setdefault(_FIRST, now)
            return None

    # -- answers ----------------------------------------------------------------------------

    def _needs_retry(self, request_dict: dict[str, Any], **kwargs: Any) -> float | None:
        if kwargs.get("caught_exception") is None and _succeeded(kwargs.get("response")):
            self._succeeded()  # every page passes here: no retry classification for it
            return None
        context = request_dict["context"]
        retry = self._adapter.create_retry_context(request_dict=request_dict, **kwargs)
        if self._throttling.is_throttling_error_from_context(retry):
            self._throttled(context.get(_CUTS, self._cuts))
            delay = 0.0  # the retry waits for its turn at the cut rate
        elif not self._retryable.is_retryable(retry):
            return None
        else:
            delay = self._backoff.delay_amount(retry)
        deadline = self.deadline
        if deadline is None:
            deadline = context.get(_FIRST, self._clock()) + MAX_WAIT
        with self._lock:
            turn = 1.0 / self.rate if self.rate else 0.0
            if self._clock() + delay + turn > deadline:
                self.stats.gave_up += 1
                return None
            self.stats.retried += 1
        return delay

    def _throttled(self, cuts_when_sent: int) -> None:
        with self._lock:
            self.stats.throttled += 1
            self._answers.append(True)
            if cuts_when_sent != self._cuts:
                return  # sent before the last cut, at the old rate: that cut answered it
            now = self._clock()
            if self._mostly_served():
                # A few throttles among many answers: near the rate, or not about the rate.
                if now - max(self._cut_at, self._started_at) < CALM_CUT_INTERVAL:
                    return
                cut = CALM_CUT
            else:
                cut = CUT
            if self.rate is None:  # the first cut: from the rate the threads were sending at
                self.rate = min(self._send_rate(now), self.max_rate or float("inf"))
            self.rate = max(MIN_RATE, self.rate * cut)
            self.slow_start = False
            self._cuts += 1
            self._cut_at = self._grown_at = now

    def _mostly_served(self) -> bool:
        """Under FAR_OVER of the last answers were throttles, or too few answers yet to tell
        (the caller holds the lock)."""
        answers = len(self._answers)
        return answers < _ANSWERS_JUDGED or sum(self._answers) < FAR_OVER * answers

    def _send_rate(self, now: float) -> float:
        """The rate the last second's attempts went out at (from the first to the last of them:
        not counting the wait for their answers, which would halve a fast client's rate)."""
        recent = [moment for moment in self._sent if now - moment <= 1.0]
        if not recent:
            return 1.0
        return max(1.0, len(recent) / max(_SHORTEST_SPAN, recent[-1] - recent[0]))

    def _succeeded(self) -> None:
        with self._lock:
            self._answers.append(False)
            if self.rate is None:
                return  # not paced: nothing to grow
            now = self._clock()
            if now - self._cut_at > QUIET:
                self.slow_start = True
            if self.slow_start:
                self.rate += SLOW_START_STEP
            else:
                step = min(_MAX_GROWTH_STEP, now - (self._grown_at or now))
                self.rate += (self.rate * PROBE + PROBE_STEP) * step
            self._grown_at = now
            if self.max_rate is not None:
                self.rate = min(self.max_rate, self.rate)


def _no_turn(operation_name: str) -> ClientError:
    """What a call gets when its turn would come after the deadline: throttling, as SSM's."""
    error: Any = {
        "Error": {
            "Code": "ThrottlingException",
            "Message": "Rate exceeded: no turn to send before the invocation's deadline",
        }
    }
    return ClientError(error, operation_name)


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

"""Running a piece of a test from several threads at once, as concurrent Lambda invocations and
callers of one client do."""

import threading
from collections.abc import Callable


def run_in_threads(target: Callable[[], None], count: int) -> None:
    """Run `target` in `count` threads started together, and wait for them all to end."""
    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

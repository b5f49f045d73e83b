"""`make profile`: where one benchmark scenario spends its CPU (cProfile), for future work.

    python -m benchmarks.profile [--scenario "20 x 2,000"] [--top 25]

cProfile sees only the thread it runs in, so the function's thread pool is replaced by one that
runs each task inline: the same work, one thread, every call visible. At zero latency.
"""

import argparse
import cProfile
import pstats
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import Any

from benchmarks.bench import SCENARIOS, run_ours
from mwalerts import pipeline


class InlineExecutor:
    """A ThreadPoolExecutor stand-in that does the work in the calling thread."""

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        pass

    def __enter__(self) -> "InlineExecutor":
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def submit(self, function: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(function(*args))
        return future

    def map(self, function: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        return iter([function(item) for item in items])


def main(argv: list[str] | None = None) -> int:
    names = [scenario.name for scenario in SCENARIOS]
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile")
    parser.add_argument("--scenario", choices=names, default=SCENARIOS[2].name)
    parser.add_argument("--top", type=int, default=25, help="functions to list (25)")
    args = parser.parse_args(argv)
    scenario = SCENARIOS[names.index(args.scenario)]
    setattr(pipeline, "ThreadPoolExecutor", InlineExecutor)  # noqa: B010 - swapped for profiling
    profiler = cProfile.Profile()
    run = run_ours(scenario, 0.0, profiler=profiler)  # the handler call only
    print(f"{scenario.name}: CPU {run.cpu:.2f} s under the profiler")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())

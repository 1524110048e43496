"""python -m bench: set everything up, run each scenario in a load process, print the table.

Exit status: 0 when every call succeeded (a MISS of a target is reported, not fatal),
1 when any scenario saw errors, 2 when the setup itself failed.
"""

from __future__ import annotations

import json
import random
import signal
import sys
import tempfile
import traceback
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from types import FrameType

from bench import checks, options, report, runs, startup
from bench.console import say
from bench.plan import Result
from bench.scenarios import FLOORS, SCENARIOS

SEED = 20240601


def _terminate(signum: int, _frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so every server we started is stopped."""
    raise SystemExit(128 + signum)


def show(results: list[tuple[str, Result]], extra: list[str], json_path: Path | None) -> None:
    """The table on stdout, each result's throughput as a share of its service's floor,
    then the targets, notes and checks; the results as JSON too when asked."""
    by_key = {r.name: r for _, r in results}
    for _, r in results:
        floor = by_key.get(FLOORS[SCENARIOS[r.name].service])
        if floor is not None and floor.throughput:
            r.floor_ratio = r.throughput / floor.throughput
    print()
    print(report.table(results))
    print(report.LEGEND)
    print()
    for line in report.targets(results) + report.notes(results) + extra:
        print(line)
    if json_path:
        json_path.write_text(json.dumps([asdict(r) for _, r in results], indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = options.parse_args(argv, __doc__)
    signal.signal(signal.SIGTERM, _terminate)
    # Ctrl-C unwinds too, even when a launching shell had SIGINT ignored (background jobs).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    rng = random.Random(SEED)
    with (
        tempfile.TemporaryDirectory(prefix="daira-bench-", ignore_cleanup_errors=True) as tmp,
        ExitStack() as stack,
    ):
        workdir = Path(tmp)
        deployment = startup.start(stack, workdir, args, rng)
        results, extra = runs.run_scenarios(deployment, args, rng, workdir)
        extra += checks.after_runs(deployment, args.scenarios, results)
        say("stopping")
    show(results, extra, args.json)
    return 1 if any(r.errors for _, r in results) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception:
        traceback.print_exc()
        sys.exit(2)

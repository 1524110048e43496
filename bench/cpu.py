"""CPU accounting: the machine's busy time, split into the bench's process tree and the rest.

On a shared 2-core box another test run can take half the CPU; the bench measures that
share (noise), waits for it to pass before a scenario, and reports it per scenario.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import psutil


def process_cpu(process: psutil.Process, *, reaped: bool = False) -> float:
    """CPU seconds of `process`, and with `reaped` also of its children that have exited."""
    try:
        times = process.cpu_times()
    except psutil.Error:
        return 0.0
    own = times.user + times.system
    return own + times.children_user + times.children_system if reaped else own


def tree_cpu(root: psutil.Process) -> float:
    """CPU seconds of `root` and all its descendants, the exited ones included (PostgreSQL
    forks a backend per connection, so a churning pool leaves its cost in the postmaster)."""
    try:
        children = root.children(recursive=True)
    except psutil.Error:
        return 0.0
    return sum(process_cpu(p, reaped=True) for p in [root, *children])


def machine_cpu() -> tuple[float, float]:
    """(busy, total) core-seconds of the whole machine since boot."""
    times = psutil.cpu_times()
    total = sum(times)
    return total - times.idle - getattr(times, "iowait", 0.0), total


def foreign_share(bench: psutil.Process, seconds: float) -> float:
    """Share of the machine's CPU used outside the bench's tree over the next `seconds`."""
    tree0, (busy0, total0) = tree_cpu(bench), machine_cpu()
    time.sleep(seconds)
    tree1, (busy1, total1) = tree_cpu(bench), machine_cpu()
    capacity = total1 - total0
    if capacity <= 0:
        return 0.0
    return max(0.0, (busy1 - busy0) - (tree1 - tree0)) / capacity


def wait_for_quiet(
    bench: psutil.Process, threshold: float, max_wait: float, say: Callable[[str], None]
) -> float:
    """Wait (at most `max_wait` s) until other processes use under `threshold` of the CPU;
    the last share seen."""
    deadline = time.monotonic() + max_wait
    share = foreign_share(bench, 0.5)
    told = False
    while share > threshold and time.monotonic() < deadline:
        if not told:
            say(f"other processes use {share * 100:.0f}% of the CPU; waiting for quiet")
            told = True
        share = foreign_share(bench, 1.0)
    return share

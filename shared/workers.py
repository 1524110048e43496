"""Several processes serving one service on one port, so every core of a host is used.

Python runs one core per process, so `workers: N` starts N copies of the service's own
command; each binds the same port (the server sets SO_REUSEPORT and the kernel spreads
connections) and builds its gRPC objects after it starts, as grpc requires. Worker k
serves its metrics on `metrics_port + k`. This parent only relays SIGTERM and SIGINT
and waits: it exits 0 once every worker has drained and exited 0, and stops them all
if one dies, so the restart policy restarts the service whole. A worker whose parent is
gone (killed outright, so it relayed nothing) drains and exits too, rather than serve on
unsupervised and keep the port from the service's restart.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from types import FrameType

from shared.config import ServiceSettings
from shared.service import ServiceSpec

POLL_SECONDS = 0.2
# Set in a worker's environment: the pid of the parent that supervises it.
SUPERVISOR_ENV = "DAIRA_SUPERVISOR_PID"
ORPHAN_POLL_SECONDS = 1.0


def worker_environment(spec: ServiceSpec, settings: ServiceSettings, index: int) -> dict[str, str]:
    """The parent's environment, as worker `index` of one."""
    metrics_port = settings.metrics_port + index if settings.metrics_port else 0
    return os.environ | {
        f"{spec.env_prefix}WORKERS": "1",
        f"{spec.env_prefix}PORT": str(settings.port),
        f"{spec.env_prefix}METRICS_PORT": str(metrics_port),
        SUPERVISOR_ENV: str(os.getpid()),
    }


async def orphaned() -> None:
    """Return once this worker's supervisor is gone; never, for a process that is no
    one's worker."""
    supervisor = os.environ.get(SUPERVISOR_ENV)
    if supervisor is None:
        await asyncio.Event().wait()
        return
    # Polled: a parent's death raises no event a portable process can wait on.
    while os.getppid() == int(supervisor):  # noqa: ASYNC110
        await asyncio.sleep(ORPHAN_POLL_SECONDS)


def supervise(spec: ServiceSpec, settings: ServiceSettings) -> int:
    """Run `settings.workers` workers of `spec` until a signal stops them; their exit code."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", spec.module], env=worker_environment(spec, settings, index)
        )
        for index in range(settings.workers)
    ]
    signalled = died = False

    def relay(signum: int, _frame: FrameType | None) -> None:
        nonlocal signalled
        signalled = True
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, relay)
    while any(worker.poll() is None for worker in workers):
        if not signalled and any(worker.poll() is not None for worker in workers):
            died = True
            relay(signal.SIGTERM, None)
        time.sleep(POLL_SECONDS)
    return 1 if died or any(worker.returncode != 0 for worker in workers) else 0

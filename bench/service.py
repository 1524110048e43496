"""A service under test (users, content, social), as its own process with its production defaults.

Only what a deployment must set is set (URLs, port, secret, the addresses of the services
it calls, and a metrics port so the bench can read cache hit counts); every
DAIRA_<SERVICE>_* variable of the caller's shell is dropped so nothing tunes the service
behind the bench's back. The access log stays on, into a file, because its cost is part
of every real call.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Self

from shared import processes
from shared.healthcheck import is_serving
from shared.ports import free_port
from shared.service import ROOT, ServiceSpec
from shared.tiers import Tier

START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0
CACHE_LINE = re.compile(r"^daira_cache_requests_total\{([^}]*)\}\s+([0-9.eE+]+)$", re.M)


def free_ports_in_a_row(count: int) -> int:
    """The first of `count` consecutive free ports (one metrics port per worker)."""
    while True:
        first = free_port()
        try:
            for port in range(first + 1, first + count):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first


class ServiceProcess:
    def __init__(
        self,
        spec: ServiceSpec,
        database_url: str,
        redis_url: str,
        workdir: Path,
        *,
        cache_tier: Tier | None = None,
        command: list[str] | None = None,
        secret: str | None = None,
        settings: dict[str, str] | None = None,
        workers: int = 1,
    ) -> None:
        """`secret`: the token secret, shared with the services it calls or is called by;
        `settings`: more DAIRA_<SERVICE>_ settings by unprefixed name (USERS_ADDRESS, …);
        `cache_tier`: the tier whose hits and misses `cache_counts` reports;
        `workers`: processes serving the port (worker k's metrics on `metrics_port + k`)."""
        self.spec = spec
        self.cache_tier = cache_tier
        self.command = command or [sys.executable, "-m", spec.module]
        self.port = free_port()
        self.workers = workers
        self.metrics_port = free_ports_in_a_row(workers)
        self.secret = secret or secrets.token_urlsafe(48)
        self.log_path = workdir / f"{spec.name}-service.log"
        # Read at start(), so services that call each other can learn each other's targets.
        self.settings = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "PORT": str(self.port),
            "METRICS_PORT": str(self.metrics_port),
            "AUTH_SECRET": self.secret,
            "WORKERS": str(workers),
        } | (settings or {})
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def start(self) -> None:
        prefix = self.spec.env_prefix
        env = {k: v for k, v in os.environ.items() if not k.startswith(prefix)}
        env |= {f"{prefix}{k}": v for k, v in self.settings.items()}
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Our own session: a Ctrl-C reaches the bench, which stops us in order.
                start_new_session=True,
            )
        self._wait_serving()

    def _wait_serving(self) -> None:
        """Until the port answers SERVING and every worker serves its metrics: an answer on
        the port shows one worker up, not all of them."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        name = self.spec.name
        while not (is_serving(self.target, self.spec.grpc_service) and self._metrics_served()):
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"{name} service exited:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} service not SERVING in time:\n{self.log_tail()}")
            time.sleep(0.1)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            processes.stop(process, signal.SIGTERM, STOP_TIMEOUT_SECONDS)

    def cache_counts(self) -> Counter[str]:
        """Cache lookups of `cache_tier` so far, by outcome (hit, miss); none without one."""
        counts: Counter[str] = Counter()
        if self.cache_tier is None:
            return counts
        text = "".join(self._metrics(self.metrics_port + k) for k in range(self.workers))
        for labels, value in CACHE_LINE.findall(text):
            pairs = dict(re.findall(r'(\w+)="([^"]*)"', labels))
            if pairs.get("tier") == self.cache_tier.value:
                counts[pairs.get("outcome", "")] += int(float(value))
        return counts

    def _metrics_served(self) -> bool:
        try:
            for k in range(self.workers):
                self._metrics(self.metrics_port + k)
        except OSError:
            return False
        return True

    @staticmethod
    def _metrics(port: int) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            return str(reply.read().decode())

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return "(no log)"

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

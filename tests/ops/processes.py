"""A service as its own process, as a container or `make run` runs it, for the tests that
signal it or run several workers of it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from shared.ports import free_port
from shared.service import ROOT, ServiceSpec
from tests import harness

SECRET = "service-process-test-secret-0123456789abcdef"
STOP_TIMEOUT_SECONDS = 60


class ServiceProcess:
    def __init__(
        self,
        spec: ServiceSpec,
        log_dir: Path,
        *,
        database_url: str,
        redis_url: str,
        command: Sequence[str] | None = None,
        settings: dict[str, str] | None = None,
    ) -> None:
        """`settings`: more DAIRA_<SERVICE>_ settings, by unprefixed name."""
        self.spec = spec
        self.port = free_port()
        self.command = [*(command or [sys.executable, "-m", spec.module])]
        self.log_path = log_dir / f"{spec.name}.log"
        values = {
            "PORT": str(self.port),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "AUTH_SECRET": SECRET,
        } | (settings or {})
        env = {key: value for key, value in os.environ.items() if not key.startswith("DAIRA_")}
        self.env = env | {
            # As the image's ENV: the virtualenv first on PATH, the code and stubs importable.
            "PATH": f"{Path(sys.executable).parent}:{env['PATH']}",
            "PYTHONPATH": f"{ROOT}:{ROOT / 'gen'}",
        }
        self.env |= {f"{spec.env_prefix}{name}": value for name, value in values.items()}
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def spawn(self) -> None:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    async def start(self) -> None:
        """Start it and wait until its health check says SERVING."""
        self.spawn()
        try:
            await harness.wait_until_serving(self.port, self.spec.grpc_service)
        except BaseException:
            self.kill()
            raise

    def terminate(self) -> int:
        """SIGTERM, then its exit code once it has stopped."""
        assert self._process is not None
        self._process.send_signal(signal.SIGTERM)
        return self._process.wait(STOP_TIMEOUT_SECONDS)

    def kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

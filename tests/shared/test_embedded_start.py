"""A child server killed by a signal while it starts is started once more; one that exits
by itself, or is killed again, is given up."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from shared.embedded import KilledWhileStarting, _ChildServer

SCRIPT = """
import os, pathlib, signal, socket, sys, time
starts = pathlib.Path({starts!r})
n = int(starts.read_text()) if starts.exists() else 0
starts.write_text(str(n + 1))
if n < {failures}:
    if {by_signal}:
        os.kill(os.getpid(), signal.SIGBUS)
    sys.exit(3)
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", {port}))
listener.listen()
time.sleep(60)
"""


class Flaky(_ChildServer):
    """A TCP listener whose first `failures` starts die, by SIGBUS or by exiting."""

    pidfile_name = "flaky.pid"

    def __init__(self, data_dir: Path, failures: int, *, by_signal: bool) -> None:
        super().__init__(data_dir)
        self.failures = failures
        self.by_signal = by_signal
        self.starts = data_dir / "starts"

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def _command(self) -> list[str]:
        script = SCRIPT.format(
            starts=str(self.starts),
            failures=self.failures,
            by_signal=self.by_signal,
            port=self.port,
        )
        return [sys.executable, "-c", script]

    def _ready(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
        except OSError:
            return False
        return True

    def start_count(self) -> int:
        return int(self.starts.read_text())


def test_a_server_killed_by_a_signal_while_starting_is_started_once_more(tmp_path) -> None:
    server = Flaky(tmp_path / "flaky", failures=1, by_signal=True)
    with server:
        assert server.start_count() == 2


def test_a_server_killed_again_is_given_up(tmp_path) -> None:
    server = Flaky(tmp_path / "flaky", failures=2, by_signal=True)
    with pytest.raises(KilledWhileStarting):
        server.start()
    assert server.start_count() == 2


def test_a_server_that_exits_by_itself_is_not_started_again(tmp_path) -> None:
    server = Flaky(tmp_path / "flaky", failures=1, by_signal=False)
    with pytest.raises(RuntimeError, match="exited with 3"):
        server.start()
    assert server.start_count() == 1

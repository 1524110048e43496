"""Ports for servers that start later, chosen now so that others can be told them.

A port found free is bound only once its server has started, seconds later; meanwhile
the kernel must not hand it to another socket. `free_port` picks one below the kernel's
ephemeral range, which binding port 0 and connecting out never use. `reserved_port`
holds one instead: bound, never listening, with SO_REUSEPORT as gRPC servers bind theirs
(shared/server.py), so the server binds it beside the holder, nothing else can take it,
and every connection goes to the server.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOST = "127.0.0.1"
# free_port's ports: from here to where the kernel's ephemeral range begins.
FREE_PORTS_FROM = 20_000
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, below the ephemeral range
    where there is room for it (any free one otherwise)."""
    ephemeral_from = _ephemeral_from()
    if ephemeral_from - FREE_PORTS_FROM >= 1000:
        pick = random.SystemRandom()
        for _ in range(100):
            port = pick.randrange(FREE_PORTS_FROM, ephemeral_from)
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                try:
                    sock.bind((HOST, port))
                except OSError:
                    continue
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        chosen: int = sock.getsockname()[1]
        return chosen


@contextmanager
def reserved_port() -> Iterator[int]:
    """A port held for a gRPC server until the block ends (see the module's docstring)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind((HOST, 0))
        yield holder.getsockname()[1]


def _ephemeral_from() -> int:
    """The first port the kernel hands out for port 0 and outgoing connections."""
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return FREE_PORTS_FROM

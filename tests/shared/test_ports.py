"""Ports chosen now for servers that bind them later."""

import socket

import pytest

from shared import ports
from shared.ports import free_port, reserved_port


def test_a_free_port_is_below_the_kernels_ephemeral_range() -> None:
    ephemeral_from = int(ports.EPHEMERAL_RANGE.read_text().split()[0])

    assert ports.FREE_PORTS_FROM <= free_port() < ephemeral_from


def test_a_free_port_can_be_bound() -> None:
    with socket.socket() as sock:
        sock.bind((ports.HOST, free_port()))


def test_without_room_below_the_ephemeral_range_any_free_port_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ports, "FREE_PORTS_FROM", 65_000)

    with socket.socket() as sock:
        sock.bind((ports.HOST, free_port()))


def test_a_reserved_port_cannot_be_taken_by_another_socket() -> None:
    with reserved_port() as port, socket.socket() as other, pytest.raises(OSError):
        other.bind((ports.HOST, port))


def test_a_reserved_port_can_be_bound_beside_its_holder_as_grpc_binds() -> None:
    with reserved_port() as port, socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        server.bind((ports.HOST, port))
        server.listen()

"""The test helpers that start real servers must not hand two servers one port: stop 27's CI
run failed when nginx's HTTPS and onion listeners were given the same port."""

from __future__ import annotations

import socket

from tests.procs import free_port, free_ports


def test_ports_chosen_together_are_distinct() -> None:
    # Probes closed one by one gave 7–14 repeats in 500 on this machine; 8 in 20,000 sets of 4.
    ports = free_ports(500)
    assert len(set(ports)) == len(ports)


def test_a_free_port_can_be_listened_on() -> None:
    port = free_port()
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        server.listen()
        assert server.getsockname()[1] == port

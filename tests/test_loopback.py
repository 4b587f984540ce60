"""The guard that keeps the suite's traffic on this machine."""

import socket

import pytest

from tests.loopback import NonLoopbackTraffic

# Documentation addresses (RFC 5737, RFC 3849): nothing would answer there anyway.
ELSEWHERE = ["192.0.2.1", "2001:db8::1"]


@pytest.mark.parametrize("host", ELSEWHERE)
def test_a_connection_elsewhere_is_refused_before_it_starts(host):
    with pytest.raises(NonLoopbackTraffic):
        socket.create_connection((host, 80), timeout=1)


def test_a_name_lookup_is_refused_before_it_is_sent():
    with pytest.raises(NonLoopbackTraffic):
        socket.getaddrinfo("hooks.example", 443)


def test_this_machine_is_reachable(webhook):
    port = int(webhook.url.split(":")[2].split("/")[0])
    socket.create_connection(("127.0.0.1", port), timeout=5).close()
    assert socket.getaddrinfo("localhost", 80)

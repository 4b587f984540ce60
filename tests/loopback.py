"""A guard for the test process: it may connect to, and look up, this machine only.

Tests name other addresses (a cloud metadata address, private ranges) to prove that the
webhook check refuses them; this guard makes "nothing is ever sent there" a fact the suite
checks rather than a promise: a connection or a name lookup for any other host raises before
a packet leaves. Browsers run in their own process and are held to 127.0.0.1 by their routes
(`tests.live.only_our_hosts`).
"""

import ipaddress
import socket

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


class NonLoopbackTraffic(AssertionError):
    """A test tried to reach a host other than this machine."""


def is_loopback(host):
    if isinstance(host, bytes):
        host = host.decode()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def is_ip_literal(host):
    try:
        ipaddress.ip_address((host.decode() if isinstance(host, bytes) else host).split("%")[0])
    except ValueError:
        return False
    return True


def guard(monkeypatch):
    """Refuse, in this process, connections to other hosts and lookups of other names (an IP
    literal needs no lookup, so checking one sends nothing)."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def checked(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
            sock.close()  # unusable from here on; closed so that no warning hides the error
            raise NonLoopbackTraffic(f"tests may only connect to 127.0.0.1, not {address[0]}")

    def connect(sock, address):
        checked(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock, address):
        checked(sock, address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not (is_loopback(host) or is_ip_literal(host)):
            raise NonLoopbackTraffic(f"tests may not look up {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

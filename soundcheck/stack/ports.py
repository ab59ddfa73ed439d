"""Is a TCP port free, and if not, who holds it."""

from __future__ import annotations

import contextlib
import socket

import psutil


def port_is_open(host: str, port: int, timeout: float = 0.2) -> bool:
    """True when something accepts connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on the port and we could bind it ourselves."""
    if port_is_open(host, port):
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR so a socket in TIME_WAIT from a part we just stopped does not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def who_listens(port: int) -> str | None:
    """`pid 123 (redis-server)` for the process listening on `port`, when we may see it."""
    with contextlib.suppress(psutil.AccessDenied, OSError):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                if conn.pid is None:
                    return "another process"
                with contextlib.suppress(psutil.Error):
                    return f"pid {conn.pid} ({psutil.Process(conn.pid).name()})"
                return f"pid {conn.pid}"
    return None

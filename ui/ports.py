"""Listening sockets for the servers, with a one-line error when the port is taken."""

from __future__ import annotations

import socket

from rag.errors import RagError


def bind(host: str, port: int, setting: str) -> socket.socket:
    """A listening socket, or one line naming the flag and setting that choose another port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise RagError(
            f"cannot listen on {host}:{port} ({error.strerror}); choose another port with "
            f"--port or {setting}"
        ) from None
    return sock

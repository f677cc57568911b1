"""Listening sockets for the servers: refused beyond this machine without sign-in, and a
one-line error when the port is taken."""

from __future__ import annotations

import socket
import sys

from rag.access.users import check_exposure
from rag.errors import RagError


def bind(host: str, port: int, setting: str) -> socket.socket:
    """A listening socket, or one line naming the flag and setting that choose another port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        # Listening from now on: a client told the address before the server runs waits in
        # the backlog instead of being refused.
        sock.listen(128)
    except OSError as error:
        sock.close()
        raise RagError(
            f"cannot listen on {host}:{port} ({error.strerror}); choose another port with "
            f"--port or {setting}"
        ) from None
    return sock


def listen(
    host: str, port: int, setting: str, *, signed_in: bool, insecure: bool, how: str
) -> socket.socket:
    """The server's socket, after the exposure check (see `check_exposure`; `how` says how
    to enable sign-in) and its warning, if any, on stderr."""
    warning = check_exposure(host, signed_in, insecure, how)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    return bind(host, port, setting)

"""Start real servers for tests on 127.0.0.1 and stop them afterwards."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(
    command: list[str], ready_url: str, log: Path, timeout: float = 300, **popen
) -> Iterator[subprocess.Popen]:
    """Run `command` until the block ends; wait (bounded) until `ready_url` answers first."""
    with open(log, "w") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **popen)
        try:
            _wait(server, ready_url, log, timeout)
            yield server
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


def _wait(server: subprocess.Popen, url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if server.poll() is not None:
                pytest.fail(f"{server.args[:3]} exited: {log.read_text()[-2000:]}")
            time.sleep(0.3)
    pytest.fail(f"{server.args[:3]} did not answer at {url} within {timeout:.0f} s")

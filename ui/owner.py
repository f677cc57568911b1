"""One engine per library: the process that serves a data directory owns it.

Chroma's embedded PersistentClient is single-process: a second process writing to it leaves
the server's dense index blind to the new vectors until it restarts. So a server (`rag serve`,
`rag ui`) of an embedded library claims it for its lifetime and announces, in
RAG_HOME/server.json, where it listens and a token that lets this machine's `rag` commands
act through it (the file is readable by its owner only, like the library itself). With a
Chroma server (RAG_CHROMA_URL) the store is the single source of truth and any number of
processes share it: nothing is claimed.

Standard library only: `rag ask` reads this before it decides to load anything heavy.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass

from rag.errors import RagError
from rag.settings import Settings

# How long a command waits for a server that owns the library but is still warming up.
STARTUP_WAIT_SECONDS = 180.0


@dataclass(frozen=True)
class Announcement:
    """What server.json says: the serving process, where it answers (once ready), its token."""

    pid: int
    url: str | None
    token: str

    @property
    def ready(self) -> bool:
        """True once the server answers at `url`."""
        return self.url is not None


class Ownership:
    """A server's claim on its library, held while it runs (see the module docstring)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.token = secrets.token_urlsafe(32)
        self._lock = None

    def claim(self) -> None:
        """Take the library for this process; one line naming the owner if another has it."""
        from filelock import FileLock, Timeout  # noqa: PLC0415

        self.settings.home.mkdir(parents=True, exist_ok=True)
        if self.settings.chroma_url:
            self.announce(None)
            return
        lock = FileLock(str(self.settings.home / "owner.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            other = announced(self.settings)
            where = f" (pid {other.pid}, {other.url or 'starting'})" if other else ""
            raise RagError(
                f"the library in {self.settings.home} is already served by another rag "
                f"process{where}; use that one, or stop it first"
            ) from None
        self._lock = lock
        self.announce(None)

    def announce(self, url: str | None) -> None:
        """Say where this process answers (None: still starting), for this machine only."""
        record = {"pid": os.getpid(), "url": url, "token": self.token}
        path = self.settings.server_file
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        # Created private, then renamed: never readable by others, never half-written.
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            json.dump(record, out)
        partial.replace(path)

    def release(self) -> None:
        """Forget the announcement (if still ours) and let the library go."""
        try:
            if json.loads(self.settings.server_file.read_text()).get("pid") == os.getpid():
                self.settings.server_file.unlink()
        except (OSError, ValueError):
            pass
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def announced(settings: Settings) -> Announcement | None:
    """The server this data directory's server.json names, if its process still runs."""
    try:
        record = json.loads(settings.server_file.read_text())
        pid = int(record["pid"])
        os.kill(pid, 0)  # a server killed without cleaning up is no server
        return Announcement(pid, record.get("url"), str(record.get("token", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def wait_until_ready(settings: Settings, say=print) -> Announcement | None:
    """The announced server once it answers; waits (saying so) while one is starting."""
    found = announced(settings)
    deadline = time.monotonic() + STARTUP_WAIT_SECONDS
    if found is not None and not found.ready:
        say(f"waiting for the rag server (pid {found.pid}) that owns {settings.home} to start")
    while found is not None and not found.ready and time.monotonic() < deadline:
        time.sleep(0.25)
        found = announced(settings)
    if found is not None and not found.ready:
        raise RagError(f"the rag server (pid {found.pid}) did not start; see its output")
    return found


def url_for(host: str, port: int) -> str:
    """The URL a client on this machine reaches a server listening on host:port at (an IPv6
    address in brackets; an any-address as loopback)."""
    reachable = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in reachable:
        reachable = f"[{reachable}]"
    return f"http://{reachable}:{port}"

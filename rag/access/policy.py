"""Who may do what, decided on every request from the users file as it is now.

One decision for the page and the API. A server remembers only what it started with:
whether it listens beyond this machine (without `--insecure`), and whether anyone was signed
up. Either is a floor: such a server never serves anonymously, whatever later happens to the
users file (with its last user removed, nobody gets in, rather than everybody). Everything
else (is anyone signed up now, does this user still exist, what is their role) is read from
the users file at each request, so a user removed is locked out at once and a user added
turns sign-in on at once.
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass

from rag.access.users import EDITOR, Users

READER = "reader"


@dataclass(frozen=True)
class Visitor:
    """Someone let in: whom the audit log and the limits name, and what they may do."""

    name: str
    role: str
    signed_in: bool

    @property
    def may_edit(self) -> bool:
        """May add and remove documents, and see the library's paths and who added what."""
        return self.role == EDITOR


class Access:
    """The access rules of one running server (see the module docstring)."""

    def __init__(
        self,
        users: Users,
        exposed: bool,
        insecure: bool = False,
        api_key: str | None = None,
        clock=time.monotonic,
    ):
        self.users = users
        self.api_key = api_key
        self._closed = (exposed and not insecure) or bool(users.all())  # the floor
        self._failures = SignInFailures(clock)

    def sign_in_required(self) -> bool:
        """True when nobody may come in without signing in (or a key): someone is signed up
        now, or was since this server started, or it started beyond this machine without
        --insecure."""
        if self.users.all():
            self._closed = True  # once sign-in is on, emptying the users file opens nothing
        return self._closed

    def password_ok(self, name: str, password: str) -> bool:
        """The page's sign-in check. After a few wrong passwords for a name, that name is
        refused unchecked for a while: guessing costs time, and no bcrypt work is spent on it."""
        if self._failures.locked(name):
            return False
        user = self.users.signed_in(name, password)
        if user is None:
            self._failures.failed(name)
            return False
        self._failures.clear(name)
        return True

    def page_visitor(self, username: str | None, address: str) -> Visitor | None:
        """Who is on the page: the signed-in user if they still exist, the person at this
        machine when nobody needs to sign in; None when this request must not be served."""
        if username:
            user = self.users.all().get(username)
            return Visitor(user.name, user.role, True) if user else None
        if self.sign_in_required():
            return None
        return Visitor(address, EDITOR, False)

    def api_visitor(self, key: str, address: str) -> Visitor | None:
        """Who calls the API with this bearer key ("" for none): RAG_API_KEY's holder, a user
        by their own key, or anyone when no key and no sign-in is set up; None for a key
        that is missing or wrong."""
        if self.api_key and key and hmac.compare_digest(key.encode(), self.api_key.encode()):
            return Visitor("RAG_API_KEY", EDITOR, True)
        user = self.users.by_key(key) if key else None
        if user is not None:
            return Visitor(user.name, user.role, True)
        if self.api_key is None and not self.sign_in_required():
            return Visitor(address, EDITOR, False)
        return None


class SignInFailures:
    """Wrong passwords per user name: after MAX_FAILURES within WINDOW seconds, the name is
    locked for LOCK seconds (in memory: it protects one running server)."""

    MAX_FAILURES, WINDOW, LOCK = 5, 300.0, 60.0

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._failed: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def locked(self, name: str) -> bool:
        now = self.clock()
        with self._lock:
            recent = [t for t in self._failed.get(name, []) if t > now - self.WINDOW]
            self._failed[name] = recent
            return len(recent) >= self.MAX_FAILURES and recent[-1] > now - self.LOCK

    def failed(self, name: str) -> None:
        with self._lock:
            self._failed.setdefault(name, []).append(self.clock())

    def clear(self, name: str) -> None:
        with self._lock:
            self._failed.pop(name, None)

"""Who may use a shared deployment: users, their roles, password hashes and API keys, in
RAG_HOME/users.json. Passwords are kept as bcrypt hashes; API keys (random, shown once) as
SHA-256 digests. A reader may ask; an editor may also add and remove documents."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
import threading
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from filelock import FileLock

from rag.errors import InvalidInput, RagError

# What a client is told when the users file cannot be read (the detail goes to the log).
UNREADABLE = (
    "The server cannot read its users file, so nobody can be let in until it is fixed "
    "(the server's log says why)."
)

ROLES = ("reader", "editor")
EDITOR = "editor"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 8


@dataclass(frozen=True)
class User:
    """One person allowed in."""

    name: str
    role: str
    password_hash: str
    key_hash: str


class Users:
    """The users file of a data directory (absent or empty: nobody has signed up yet)."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._read: tuple[tuple, dict[str, User]] = ((), {})  # (file's identity, its users)

    def all(self) -> dict[str, User]:
        """Every user, by name. Every request asks, so the file is parsed again only when it
        changed (a user added with `rag users add` counts at once)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {}
        # Every change replaces the file (a new inode), so this tells any change apart.
        changed = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if self._read[0] == changed:
            return self._read[1]
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            users = {u["name"]: User(**u) for u in data["users"]}
            for user in users.values():
                _check(user)
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
            # Unreadable, not JSON, or JSON of another shape: nobody can be let in.
            said = f"{type(error).__name__}: {error}"
            raise RagError(f"cannot read the users file {self.path} ({said})") from None
        self._read = (changed, users)
        return users

    def add(self, name: str, role: str, password: str) -> str:
        """Add (or replace) a user; the new API key, which is shown once and never stored."""
        import bcrypt  # noqa: PLC0415 - only needed when users are managed or sign in

        if not _NAME.match(name):
            raise InvalidInput(f"{name!r} is not a user name: letters, digits, . _ @ - only")
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise InvalidInput(f"the password must have at least {MIN_PASSWORD} characters")
        key = "rag-" + secrets.token_urlsafe(24)
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
        self._change(lambda users: {**users, name: User(name, role, hashed, _digest(key))})
        return key

    def remove(self, name: str) -> None:
        """Take a user out; InvalidInput if there is none of that name."""
        if name not in self.all():
            raise InvalidInput(f"no user named {name!r}")
        self._change(lambda users: {k: v for k, v in users.items() if k != name})

    def signed_in(self, name: str, password: str) -> User | None:
        """The user whose name and password these are, or None."""
        import bcrypt  # noqa: PLC0415

        user = self.all().get(name)
        if user is None:
            bcrypt.checkpw(b"x", _DUMMY_HASH)  # the same time whether or not the name exists
            return None
        return user if bcrypt.checkpw(password.encode(), user.password_hash.encode()) else None

    def by_key(self, key: str) -> User | None:
        """The user whose API key this is, or None."""
        digest = _digest(key)
        return next(
            (u for u in self.all().values() if hmac.compare_digest(u.key_hash, digest)), None
        )

    def _change(self, change) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, FileLock(str(self.path) + ".lock"):
            users = change(self.all())
            fresh = self.path.with_suffix(".json.tmp")
            fresh.unlink(missing_ok=True)  # one left by a killed process may be readable
            # Created private: the hashes are never readable by others, not even for a moment.
            descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                json.dump({"users": [asdict(u) for u in users.values()]}, out, indent=2)
            fresh.replace(self.path)


@lru_cache(maxsize=8)
def users_at(path: Path) -> Users:
    """The users file of a data directory, one reader per process (so its cache serves every
    request)."""
    return Users(path)


_DUMMY_HASH = b"$2b$12$z0MRwXhtr4SQwkOOEtpky.U01ww6v.TzlrPKUgxvvIv7/DkT0j8vG"  # of "x"


_BCRYPT = re.compile(r"^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _check(user: User) -> None:
    """ValueError unless every field of a user is what `add` writes."""
    if not all(isinstance(v, str) for v in asdict(user).values()):
        raise ValueError(f"every field of user {user.name!r} must be text")
    if user.role not in ROLES:
        raise ValueError(f"user {user.name!r} has no role of {', '.join(ROLES)}")
    if not _BCRYPT.match(user.password_hash) or not _SHA256.match(user.key_hash):
        raise ValueError(f"user {user.name!r} has a damaged password or key hash")


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, signed_in: bool, insecure: bool, how: str) -> str | None:
    """Refuse to serve beyond this machine without sign-in (RagError naming `how` to enable
    it); with --insecure, the warning to print on every start; None when nothing to say."""
    if is_loopback(host) or signed_in:
        return None
    if not insecure:
        raise RagError(
            f"refusing to listen on {host} without sign-in: {how}, or pass --insecure to let "
            "anyone who can reach the port read and change the library"
        )
    return (
        f"WARNING: listening on {host} with no sign-in (--insecure): anyone who can reach "
        "this port can read every document and add or remove documents"
    )

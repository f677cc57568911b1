"""Conversations that persist: each user's past chats, in the library's data directory.

One JSON file per conversation under RAG_HOME/conversations/<user key>/, written whole or
not at all (a temporary file renamed into place). The folder of a user is named by a digest
of their name, so any name is a safe folder and nobody's folder can be reached by naming
another. A conversation keeps every Answer as it was given, quotes and offsets included, so
it reopens exactly as it was even after its documents changed or left the library.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from rag.access.policy import Visitor
from rag.errors import InvalidInput
from rag.types import Answer

# Where nobody signs in, conversations belong to the person at this machine (page and API).
LOCAL_USER = "this machine"
_ID = re.compile(r"^[a-z0-9]{16}\Z")
MAX_TITLE = 80


@dataclass
class Conversation:
    """One chat: its answers in order (each carries its question)."""

    id: str
    title: str
    created: float
    updated: float
    answers: list[Answer] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "created": self.created,
            "updated": self.updated,
            "answers": [a.to_dict() for a in self.answers],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Conversation:
        return cls(
            id=data["id"],
            title=data["title"],
            created=data["created"],
            updated=data["updated"],
            answers=[Answer.from_dict(a) for a in data["answers"]],
        )


@dataclass(frozen=True)
class Listed:
    """A conversation as the list beside the chat shows it."""

    id: str
    title: str
    updated: float
    answers: int


class Conversations:
    """One user's conversations."""

    _lock = threading.Lock()  # one writer at a time in this process; files are atomic anyway

    def __init__(self, home: Path, user: str):
        digest = hashlib.sha256(user.encode()).hexdigest()[:24]
        self.folder = home / "conversations" / digest

    def all(self) -> list[Listed]:
        """Every conversation of this user, the latest changed first."""
        listed = []
        for path in self.folder.glob("*.json"):
            conversation = self._read(path)
            if conversation is not None:
                listed.append(
                    Listed(
                        conversation.id,
                        conversation.title,
                        conversation.updated,
                        len(conversation.answers),
                    )
                )
        return sorted(listed, key=lambda c: c.updated, reverse=True)

    def get(self, conversation_id: str) -> Conversation | None:
        """This user's conversation of that id, or None (another user's is never found)."""
        if not _ID.match(conversation_id or ""):
            return None
        return self._read(self.folder / f"{conversation_id}.json")

    def add(self, conversation_id: str | None, answer: Answer) -> Conversation:
        """Append an answer to a conversation of this user, starting one when the id is
        None or unknown; the conversation as saved."""
        with self._lock:
            conversation = self.get(conversation_id or "")
            now = time.time()
            if conversation is None:
                title = " ".join(answer.question.split())[:MAX_TITLE]
                conversation = Conversation(secrets.token_hex(8), title, now, now)
            conversation.answers.append(answer)
            conversation.updated = now
            self._write(conversation)
            return conversation

    def rename(self, conversation_id: str, title: str) -> Conversation:
        """Give a conversation a new title (InvalidInput for an empty one or no such id)."""
        title = " ".join(title.split())[:MAX_TITLE]
        if not title:
            raise InvalidInput("a conversation needs a title")
        with self._lock:
            conversation = self._existing(conversation_id)
            conversation.title = title
            self._write(conversation)
            return conversation

    def delete(self, conversation_id: str) -> None:
        """Delete a conversation of this user (InvalidInput if there is none of that id)."""
        with self._lock:
            self._existing(conversation_id)
            (self.folder / f"{conversation_id}.json").unlink(missing_ok=True)

    def drop_all(self) -> int:
        """Delete every conversation of this user; how many there were."""
        with self._lock:
            found = list(self.folder.glob("*.json"))
            shutil.rmtree(self.folder, ignore_errors=True)
            return len(found)

    def _existing(self, conversation_id: str) -> Conversation:
        conversation = self.get(conversation_id)
        if conversation is None:
            raise InvalidInput(f"no conversation {conversation_id!r}")
        return conversation

    def _read(self, path: Path) -> Conversation | None:
        try:
            return Conversation.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # gone meanwhile, or not one of ours: not listed

    def _write(self, conversation: Conversation) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self.folder / f"{conversation.id}.json"
        partial = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(conversation.to_dict(), out, ensure_ascii=False)
        partial.replace(target)


def conversations_of(home: Path, who: Visitor) -> Conversations:
    """The conversations of a visitor: a signed-in user's (or key holder's) own, else this
    machine's."""
    return Conversations(home, who.name if who.signed_in else LOCAL_USER)

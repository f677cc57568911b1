"""Who changed the library: one JSON line per ingest, upload and removal in
RAG_HOME/audit.jsonl (time, user, action, document, path, size, content hash)."""

from __future__ import annotations

import getpass
import json
import threading
from datetime import UTC, datetime

from rag.settings import Settings
from rag.types import Document

_lock = threading.Lock()


def command_line_user() -> str:
    """Who runs `rag ingest` or `rag docs remove`: the account of the shell."""
    try:
        return f"{getpass.getuser()} (command line)"
    except (KeyError, OSError):
        return "command line"


def record(settings: Settings, user: str, action: str, document: Document, sha: str) -> None:
    """Append one change of the library to the audit log."""
    entry = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "user": user,
        "action": action,
        "document": document.name,
        "document_id": document.id,
        "path": document.path,
        "size": document.chars,
        "sha256": sha,
    }
    settings.home.mkdir(parents=True, exist_ok=True)
    with _lock, open(settings.audit_file, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry, ensure_ascii=False) + "\n")

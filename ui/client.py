"""`rag` commands through the process that serves the library (see ui/owner.py): answers in
well under a second instead of loading torch and the model in every process, and ingests and
removals that the running server sees at once. Standard library only, so that finding no
server costs nothing."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path

from rag.errors import IngestBusy, InvalidInput, RagError
from rag.settings import Settings
from rag.types import Answer, Document
from ui.owner import wait_until_ready

PROBE_SECONDS = 2.0


@dataclass(frozen=True)
class Server:
    """A running rag server and the credentials this process uses with it."""

    url: str
    headers: dict[str, str]
    owns_library: bool  # the announced server of this data directory (not RAG_SERVER_URL)


def find_server(settings: Settings, say=print) -> Server | None:
    """RAG_SERVER_URL when it answers (with RAG_API_KEY), else the server this data
    directory's server.json announces (with its token), waiting while it starts; else None."""
    if settings.server_url:
        url = settings.server_url.rstrip("/")
        key = settings.api_key.get_secret_value() if settings.api_key else ""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return Server(url, headers, owns_library=False) if _alive(url) else None
    found = wait_until_ready(settings, say)
    if found is None or not _alive(found.url):
        return None
    return Server(found.url, {"Authorization": f"Bearer {found.token}"}, owns_library=True)


def remote_answer(
    server: Server,
    settings: Settings,
    question: str,
    history: list[str],
    mode: str | None,
    documents: list[str],
) -> Answer:
    """The server's Answer to a question; its one-line errors raised as ours."""
    body = {
        "question": question,
        "history": history,
        "mode": mode or settings.mode,
        "documents": _resolved(documents),
    }
    timeout = settings.llm_timeout + 60
    return Answer.from_dict(_call(server, "POST", "/v1/answer", body, timeout))


def remote_ingest(server: Server, paths: list[Path], user: str) -> dict:
    """Ingest through the server (its report as a dict: summary, skipped)."""
    body = {"paths": [str(Path(p).resolve()) for p in paths], "user": user}
    return _call(server, "POST", "/v1/library/ingest", body, timeout=None)


def remote_remove(server: Server, documents: list[str], user: str) -> list[Document]:
    """Remove documents through the server; the documents removed."""
    body = {"documents": _resolved(documents), "user": user}
    found = _call(server, "POST", "/v1/library/remove", body, timeout=None)
    return [Document(**d) for d in found["removed"]]


def remote_documents(server: Server) -> list[Document]:
    """The library as the server sees it."""
    return [Document(**d) for d in _call(server, "GET", "/v1/library", None, 60)["documents"]]


def _resolved(documents: list[str]) -> list[str]:
    # Paths are the asker's: resolved here, not against the server's working folder.
    return [str(Path(d).resolve()) if Path(d).exists() else d for d in documents]


def _call(server: Server, method: str, path: str, body: dict | None, timeout) -> dict:
    request = urllib.request.Request(
        server.url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **server.headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        message = _message(error)
        if error.code == 401:
            how = "its token in server.json" if server.owns_library else "RAG_API_KEY"
            message = f"the rag server at {server.url} refused this key ({how}): {message}"
        kind = {400: InvalidInput, 404: InvalidInput, 409: IngestBusy}.get(error.code, RagError)
        raise kind(message) from None
    except (OSError, HTTPException) as error:  # URLError, resets and timeouts are OSErrors
        raise RagError(f"the rag server at {server.url} stopped answering: {error}") from None


def _alive(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=PROBE_SECONDS) as response:
            return response.status == 200
    except (OSError, HTTPException, ValueError):
        return False


def _message(error: urllib.error.HTTPError) -> str:
    try:
        return json.loads(error.read())["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return f"the rag server answered HTTP {error.code}"

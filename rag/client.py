"""`rag ask` and `rag chat` through a running `rag serve`: the answer in well under a second,
instead of loading torch and the model in every process. Standard library only, so that
finding no server costs nothing."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from http.client import HTTPException
from pathlib import Path

from rag.errors import InvalidInput, RagError
from rag.settings import Settings
from rag.types import Answer

PROBE_SECONDS = 1.0


def find_server(settings: Settings) -> str | None:
    """The URL of a `rag serve` that answers: RAG_SERVER_URL, or the one this data
    directory's server.json names (when its process still runs); None otherwise."""
    url = settings.server_url or _announced(settings)
    if url and _answers(url.rstrip("/"), settings):
        return url.rstrip("/")
    return None


def remote_answer(
    url: str,
    settings: Settings,
    question: str,
    history: list[str],
    mode: str | None,
    documents: list[str],
) -> Answer:
    """The server's Answer to a question; its one-line errors raised as ours."""
    # Paths are the asker's: resolved here, not against the server's working folder.
    named = [str(Path(d).resolve()) if Path(d).exists() else d for d in documents]
    body = {
        "question": question,
        "history": history,
        "mode": mode or settings.mode,
        "documents": named,
    }
    request = urllib.request.Request(
        f"{url}/v1/answer",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **_auth(settings)},
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.llm_timeout + 60) as response:
            return Answer.from_dict(json.loads(response.read()))
    except urllib.error.HTTPError as error:
        message = _message(error)
        raise (InvalidInput if error.code == 400 else RagError)(message) from None
    except (OSError, HTTPException) as error:  # URLError, resets and timeouts are OSErrors
        raise RagError(f"the rag server at {url} stopped answering: {error}") from None


def _announced(settings: Settings) -> str | None:
    try:
        announced = json.loads(settings.server_file.read_text())
        os.kill(int(announced["pid"]), 0)  # a server killed without cleaning up is no server
        return str(announced["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _answers(url: str, settings: Settings) -> bool:
    request = urllib.request.Request(f"{url}/v1/models", headers=_auth(settings))
    try:
        with urllib.request.urlopen(request, timeout=PROBE_SECONDS) as response:
            return response.status == 200
    except (OSError, HTTPException, ValueError):
        return False


def _auth(settings: Settings) -> dict[str, str]:
    key = settings.api_key.get_secret_value() if settings.api_key else None
    return {"Authorization": f"Bearer {key}"} if key else {}


def _message(error: urllib.error.HTTPError) -> str:
    try:
        return json.loads(error.read())["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return f"the rag server answered HTTP {error.code}"

"""`rag serve`: the engine behind an OpenAI-compatible HTTP API, so Open WebUI, LibreChat or
any OpenAI SDK can chat with the library, and `rag ask` can use a warm process.

Routes: GET /v1/models, POST /v1/chat/completions (stream false or true), POST /v1/answer
(the whole `Answer`, for `rag ask` and `rag chat`) and GET /health. Errors use OpenAI's
error shape.
"""

from __future__ import annotations

import hmac
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Literal

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from rag.answer import Chatbot
from rag.condense import condense
from rag.errors import InvalidInput, RagError
from rag.library import scope_of
from rag.limits import RateLimit, questions_message
from rag.llm import llm_available
from rag.settings import Settings
from rag.types import Answer
from rag.users import users_at
from ui.ports import listen
from ui.security import SecurityHeaders
from ui.warm import warm_chatbot

MODES = {"rag-extractive": "extractive", "rag-llm": "llm"}


class ApiError(Exception):
    """An error for the client, in OpenAI's shape."""

    def __init__(self, status: int, message: str, kind: str, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.kind, self.code = status, message, kind, code


class Message(BaseModel):
    """One chat message; content as a string or OpenAI's list of parts."""

    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict] | None = None

    def text(self) -> str:
        """The message's text, its text parts joined when it has parts."""
        if isinstance(self.content, list):
            return " ".join(p.get("text", "") for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """OpenAI's chat completion request; other OpenAI fields are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    model: str
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    documents: list[str] = Field(
        default_factory=list, description="Answer only from these documents (names or paths)."
    )


class AnswerRequest(BaseModel):
    """A question for /v1/answer, as `rag ask` and `rag chat` send it."""

    question: str
    history: list[str] = Field(default_factory=list)
    mode: Literal["extractive", "llm"] | None = None
    documents: list[str] = Field(default_factory=list)


def create_api(settings: Settings, bot: Chatbot) -> FastAPI:
    """The API over one warm Chatbot shared by every request."""
    api = FastAPI(
        title="rag-cite",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        middleware=[Middleware(SecurityHeaders)],
    )
    key = settings.api_key.get_secret_value() if settings.api_key else None
    users = users_at(settings.users_file)
    questions = RateLimit(settings.questions_per_minute, 60)

    def authorized(request: Request) -> str:
        """Who asks: RAG_API_KEY's holder, a user by their own key, or (when neither is set
        up) the client's address. 401 for a missing or wrong key."""
        if key is None and not users.all():
            return request.client.host if request.client else "anonymous"
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if key is not None and hmac.compare_digest(given.encode(), key.encode()):
            return "RAG_API_KEY"
        user = users.by_key(given) if given else None
        if user is None:
            raise ApiError(
                401, "Incorrect or missing API key.", "invalid_request_error", "invalid_api_key"
            )
        return user.name

    def limited(who: str = Depends(authorized)) -> str:
        """The asker, if they have questions left this minute; 429 otherwise."""
        if not questions.allow(who):
            message = questions_message(settings.questions_per_minute)
            raise ApiError(429, message, "requests", "rate_limit_exceeded")
        return who

    @api.exception_handler(ApiError)
    def api_error(_request, error: ApiError):
        return _error_response(error)

    @api.exception_handler(RequestValidationError)
    def invalid_request(_request, error: RequestValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or "body"
        return _error_response(ApiError(400, f"{where}: {first['msg']}", "invalid_request_error"))

    @api.exception_handler(HTTPException)
    def http_error(_request, error: HTTPException):
        return _error_response(
            ApiError(error.status_code, str(error.detail), "invalid_request_error")
        )

    guarded = [Depends(authorized)]

    @api.get("/health")
    def health() -> dict:
        """For load balancers and tests: answers without a key, tells nothing."""
        return {"status": "ok"}

    @api.get("/v1/models", dependencies=guarded)
    def models() -> dict:
        """One model per answering mode available here."""
        names = [
            name for name, mode in MODES.items() if mode == "extractive" or llm_available(settings)
        ]
        return {
            "object": "list",
            "data": [
                {"id": n, "object": "model", "created": 0, "owned_by": "rag-cite"} for n in names
            ],
        }

    asking = [Depends(limited)]

    @api.post("/v1/chat/completions", dependencies=asking)
    def chat_completions(request: ChatRequest):
        """The last user message answered, the earlier ones as its follow-up history."""
        if request.model not in MODES:
            raise ApiError(
                404,
                f"The model {request.model!r} does not exist; use one of {', '.join(MODES)}.",
                "invalid_request_error",
                "model_not_found",
            )
        asked = [m.text() for m in request.messages if m.role == "user"]
        if not asked:
            raise ApiError(400, "messages: no user message to answer.", "invalid_request_error")
        answer = answer_one(
            asked[-1], _standalone(asked[:-1]), MODES[request.model], request.documents
        )
        completion = Completion(request.model, answer)
        if request.stream:
            return StreamingResponse(completion.events(), media_type="text/event-stream")
        return completion.whole()

    @api.post("/v1/answer", dependencies=asking)
    def answer(request: AnswerRequest) -> dict:
        """The whole Answer, as `rag ask --json` prints it (for `rag ask` and `rag chat`)."""
        return answer_one(
            request.question, request.history, request.mode, request.documents
        ).to_dict()

    # As many questions at once as the page answers; more wait here instead of all sharing
    # the CPU.
    answering = threading.BoundedSemaphore(max(1, settings.ui_concurrency))

    def answer_one(question: str, history: list[str], mode, documents: list[str]) -> Answer:
        try:
            scope = scope_of(bot.store.documents(), documents) if documents else frozenset()
            with answering:
                return bot.answer(question, history, mode=mode, scope=scope)
        except InvalidInput as error:
            raise ApiError(400, str(error), "invalid_request_error") from None
        except RagError as error:
            raise ApiError(503, str(error), "server_error") from None

    return api


def _standalone(earlier: list[str]) -> list[str]:
    """The earlier user turns, each read as its own question, as the chat's history."""
    history: list[str] = []
    for turn in earlier:
        history.append(condense(turn, history))
    return history


def _error_response(error: ApiError) -> JSONResponse:
    body = {
        "error": {"message": error.message, "type": error.kind, "param": None, "code": error.code}
    }
    return JSONResponse(body, status_code=error.status)


def message_content(answer: Answer) -> str:
    """The answer with its [n] markers and any notice, then its sources: what any plain
    client shows."""
    text = f"{answer.text}\n\n({answer.notice})" if answer.notice else answer.text
    if not answer.citations:
        return text
    return text + "\n\nSources:\n" + "\n".join(c.line() for c in answer.citations)


class Completion:
    """One answer as an OpenAI chat completion, whole or as server-sent events."""

    def __init__(self, model: str, answer: Answer):
        self.model, self.answer = model, answer
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())

    def extra(self) -> dict:
        """What OpenAI's shape has no field for: the structured citations and the refusal."""
        return {
            "citations": [
                {
                    "n": c.n,
                    "document": c.source,
                    "document_id": c.document_id,
                    "start": c.start,
                    "end": c.end,
                    "quote": c.quote,
                }
                for c in self.answer.citations
            ],
            "refused": self.answer.refused,
        }

    def whole(self) -> dict:
        """The completion in one response."""
        content = message_content(self.answer)
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            **self.extra(),
        }

    def events(self) -> Iterator[str]:
        """The content a few words per chunk, then a last chunk carrying the citations."""
        content = message_content(self.answer)
        words = content.split(" ")
        pieces = [
            " ".join(words[i : i + 4]) + (" " if i + 4 < len(words) else "")
            for i in range(0, len(words), 4)
        ]
        yield self._event({"role": "assistant", "content": ""}, None)
        for piece in pieces:
            yield self._event({"content": piece}, None)
        yield self._event({}, "stop", self.extra())
        yield "data: [DONE]\n\n"

    def _event(self, delta: dict, finish: str | None, extra: dict | None = None) -> str:
        chunk = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **(extra or {}),
        }
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"


def serve(settings: Settings, host: str, port: int, insecure: bool = False) -> None:
    """Start the API, warmed up; say where it listens in RAG_HOME/server.json while it runs.
    Beyond this machine a key is required (RAG_API_KEY, or users' own keys)."""
    import uvicorn  # noqa: PLC0415

    sock = listen(
        host,
        port,
        "RAG_API_PORT",
        signed_in=settings.api_key is not None or bool(users_at(settings.users_file).all()),
        insecure=insecure,
        how="set RAG_API_KEY or add users with `rag users add NAME --role reader`",
    )
    started = time.perf_counter()
    bot = warm_chatbot(settings)
    reachable = "127.0.0.1" if host in ("0.0.0.0", "") else host
    url = f"http://{reachable}:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(create_api(settings, bot), log_level="warning"))
    settings.home.mkdir(parents=True, exist_ok=True)
    announcement = settings.server_file.with_suffix(f".{os.getpid()}.tmp")
    announcement.write_text(json.dumps({"url": url, "pid": os.getpid()}))
    announcement.replace(settings.server_file)  # never half-written for a reader
    print(f"ready in {time.perf_counter() - started:.1f} s: {url}/v1", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        _forget(settings, os.getpid())


def _forget(settings: Settings, pid: int) -> None:
    """Remove server.json if it is still this process's."""
    try:
        if json.loads(settings.server_file.read_text()).get("pid") == pid:
            settings.server_file.unlink()
    except (OSError, ValueError):
        pass

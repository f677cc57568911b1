"""The Gradio chat page: chat on the left, the cited sources on the right, the Library tab
beside it (ui/library.py). It calls `Chatbot.answer` and renders the `Answer`; everything
shown from documents is escaped text."""

from __future__ import annotations

import contextlib
import html
import json
import os
import queue
import re
import tempfile
import threading
import time
import uuid
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware

from rag.access.limits import RateLimit, questions_message
from rag.access.policy import Access
from rag.access.users import is_loopback, users_at
from rag.engine import Chatbot, validate_question
from rag.errors import RagError
from rag.llm.backends import LLM_MISSING, llm_available
from rag.llm.verify import ECHOED
from rag.settings import Settings
from rag.types import Answer
from ui.api import serve_in_background
from ui.bodies import BodyLimit
from ui.gate import SessionGate
from ui.history import history_column, messages_of, saved, wire_history
from ui.library import library_tab
from ui.owner import Ownership, url_for
from ui.ports import listen
from ui.render import (
    CSS,
    as_text,
    conversation_markdown,
    highlighted_paragraph,
    linked_answer,
    sources_html,
)
from ui.security import OWN_HEAD, SecurityHeaders
from ui.viewer import viewer_tab, wire_viewer
from ui.visitors import SIGN_IN_AGAIN, page_visitor
from ui.warm import warm_chatbot

EXAMPLES = [
    "Why did Liu Jun return to China?",
    "What title was Liu Jun given at Tsinghua?",
    "Why did Chen Jing return to China?",
    "What has made the US less welcoming for Chinese-born scientists?",
]
MODE_INFO = "extractive quotes the sources; llm writes an answer and checks every sentence."
_feedback_lock = threading.Lock()


def build_app(settings: Settings, bot: Chatbot, access: Access) -> gr.Blocks:
    """The whole page, wired to one Chatbot shared by every visitor; `access` decides on
    every event who sent it and what they may do."""
    with gr.Blocks(title=settings.ui_title) as app:
        answers = gr.State([])  # Answer of each assistant message, in order
        questions = gr.State([])  # standalone questions so far: the chat's history
        gr.Markdown(
            f"## {html.escape(settings.ui_title)}\n"
            "Answers quote the sources; every sentence is cited."
        )
        with gr.Tabs() as tabs:
            with gr.Tab("Chat", id="chat"):
                # Two columns that wrap on a narrow screen: the sources come right after the chat,
                # before the controls below.
                with gr.Row(elem_id="chat-row"):
                    with gr.Column(scale=1, min_width=200, elem_id="history-column"):
                        history = history_column()
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
                doc_target = gr.Textbox(elem_id="doc-target", container=False)
            library_pick = library_tab(app, settings, bot, access, scope)
            viewer = viewer_tab()
        questions_limit = RateLimit(settings.questions_per_minute, 60)

        def ask(
            message, messages, asked, past, chosen_mode, chosen_scope, current, request: gr.Request
        ):
            kept = (gr.skip(), gr.skip())  # the conversation and its list, until it is saved
            who = page_visitor(access, request)
            if who is None:
                note = _status(SIGN_IN_AGAIN)
                yield messages, message, note, gr.skip(), past, asked, gr.skip(), *kept
                return
            # Only a question that will be answered counts (_respond says what is wrong
            # with any other).
            if _acceptable(message, settings) and not questions_limit.allow(who.name):
                note = _status(questions_message(settings.questions_per_minute))
                yield messages, message, note, gr.skip(), past, asked, gr.skip(), *kept
                return
            last = None
            for last in _respond(
                bot, message, messages, asked, past, chosen_mode, frozenset(chosen_scope or ())
            ):
                yield *last, *kept
            answered = last[4] if last is not None else past
            if isinstance(answered, list) and len(answered) > len(past):
                try:
                    yield *last, *saved(settings, who, current, answered[-1])
                except OSError as error:  # the answer stays on screen; only saving failed
                    yield (
                        *last[:2],
                        _status(f"⚠ This answer was not saved ({error})."),
                        *last[3:],
                        *kept,
                    )

        outputs = [chat, box, status, panel, answers, questions, export]
        inputs = [box, chat, questions, answers, mode, scope, history.current]
        chat_and_history = [*outputs, history.current, history.listing]
        box.submit(ask, inputs, chat_and_history, api_name=False)
        send.click(ask, inputs, chat_and_history, api_name="ask")

        def show_citation(target: str, past: list[Answer], request: gr.Request):
            if page_visitor(access, request) is None:
                return gr.skip()
            number, n = (int(part) for part in target.split(":")[:2])
            answer = past[number] if 0 <= number < len(past) else None
            return _panel(bot, answer, n, number)

        cite.change(show_citation, [cite, answers], panel, api_name=False)

        def cleared():
            """The chat's values for an empty conversation."""
            empty = sources_html(None, {}, None)
            return [], "", _status(""), empty, [], [], gr.update(value=None, visible=False)

        def reopen(conversation):
            """The chat's values for a conversation reopened as it was."""
            past = list(conversation.answers)
            last = past[-1] if past else None
            first = last.citations[0].n if last and last.citations else None
            return (
                messages_of(conversation),
                "",
                _status(""),
                _panel(bot, last, first, len(past) - 1),
                past,
                [a.standalone_question for a in past],
                gr.update(value=_export(settings, past), visible=bool(past)),
            )

        new_chat.click(
            lambda: (*cleared(), "", gr.update(value=None)),
            None,
            [*outputs, history.current, history.listing],
        )
        wire_history(app, history, settings, access, outputs, reopen, cleared)
        wire_viewer(app, viewer, tabs, bot, access, doc_target, answers, library_pick)

        def record_feedback(past: list[Answer], data: gr.LikeData, request: gr.Request):
            if page_visitor(access, request) is not None:
                _record_feedback(settings, data, past)

        chat.like(record_feedback, [answers], None)

    return app


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
        _panel(bot, answer, first, len(past)),
        answers,
        [*history, answer.standalone_question],
        gr.update(value=_export(bot.settings, answers), visible=True),
    )


def _acceptable(message, settings: Settings) -> bool:
    try:
        validate_question(message or "", settings)
    except RagError:
        return False
    return True


def _status(text: str):
    """The line under the chat: shown only when it has something to say."""
    return gr.update(value=text, visible=bool(text))


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


def _stream(text: str):
    """The answer a few words at a time, as it would arrive from a model."""
    words = re.split(r"(?<=\s)", text)
    for i in range(4, len(words) + 4, 4):
        yield "".join(words[:i])
        time.sleep(0.01)


def _panel(bot: Chatbot, answer: Answer | None, selected: int | None, number: int = 0) -> str:
    """The sources of the conversation's `number`-th answer, citation `selected`
    highlighted."""
    if answer is None:
        return sources_html(None, {}, None)
    paragraphs = {}
    for c in answer.citations:
        document = bot.retriever.source_text(c.document_id)
        # A document removed or edited since the answer: show the quote as it was cited.
        if document is None or document[c.start : c.end] != c.quote:
            paragraphs[c.n] = highlighted_paragraph(" " * c.start + c.quote, c) + (
                "<div class='gone'>This document was removed or changed since; the quote is "
                "as it was cited.</div>"
            )
        else:
            paragraphs[c.n] = highlighted_paragraph(document, c)
    return sources_html(answer, paragraphs, selected, number)


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


def serve(settings: Settings, host: str, port: int, insecure: bool = False) -> None:
    """Start the app, warmed up so the first question pays no loading time. With users in
    RAG_HOME/users.json everyone signs in; beyond this machine, sign-in is required."""
    access = Access(users_at(settings.users_file), exposed=not is_loopback(host), insecure=insecure)
    # Gradio would fail deep inside its launch with a traceback; say it in one line first.
    listen(
        host,
        port,
        "RAG_UI_PORT",
        signed_in=bool(access.users.all()),
        insecure=insecure,
        how="add a user with `rag users add NAME --role editor`",
    ).close()
    ownership = Ownership(settings)
    ownership.claim()
    try:
        started = time.perf_counter()
        bot = warm_chatbot(settings)
        # Gradio's copies of uploads and exports (whole conversations) go in a folder of the
        # data directory only its owner can read, not in a shared /tmp.
        page_files = settings.home / "page-files"
        page_files.mkdir(mode=0o700, exist_ok=True)
        page_files.chmod(0o700)
        os.environ["GRADIO_TEMP_DIR"] = str(page_files)
        app = build_app(settings, bot, access)
        app.queue(
            default_concurrency_limit=settings.ui_concurrency, max_size=settings.ui_queue_size
        )
        # This machine's `rag` commands go through this process's engine (ui/owner.py).
        ownership.announce(serve_in_background(settings, bot, access, ownership))
        print(f"ready in {time.perf_counter() - started:.1f} s: {url_for(host, port)}", flush=True)
        _launch(app, settings, access, host, port)
    finally:
        ownership.release()


def _launch(app: gr.Blocks, settings: Settings, access: Access, host: str, port: int):
    # Gradio's uvicorn believes X-Forwarded-For from the addresses listed here (by default
    # loopback, so a visitor behind no proxy could claim any address and a fresh limit).
    os.environ["FORWARDED_ALLOW_IPS"] = settings.trusted_proxies.strip()
    # Sign-in is decided per request (ui/gate.py), so Gradio is launched without `auth`.
    gate = Middleware(SessionGate, access=access)
    # One upload carries at most this much, form overhead included; other requests far less.
    upload = settings.max_upload_files * settings.max_upload_bytes + 1_000_000
    bodies = Middleware(BodyLimit, larger={"/gradio_api/upload": upload})
    app.launch(
        server_name=host,
        server_port=port,
        share=False,
        css=CSS,
        head=OWN_HEAD,
        app_kwargs={"middleware": [Middleware(SecurityHeaders), bodies, gate]},
        max_file_size=settings.max_upload_bytes,
        show_error=False,
        blocked_paths=[str(settings.store_dir)],
        footer_links=[],
        auth_message=f"Sign in to {settings.ui_title}.",
    )

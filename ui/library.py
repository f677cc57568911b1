"""The Library tab: the documents, removal with a confirmation step, and uploads, for
editors; readers see a note instead. Its actions refuse readers themselves, since Gradio's API
reaches them without the page."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import gradio as gr

from rag.access.limits import RateLimit, uploads_message
from rag.access.policy import Access, Visitor
from rag.engine import Chatbot
from rag.errors import RagError
from rag.settings import Settings
from rag.types import Document
from ui.render import as_text, library_html
from ui.visitors import SIGN_IN_AGAIN, page_visitor

UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".pdf", ".docx"]
ONLY_EDITORS = "⚠ Only editors may add or remove documents."


def library_tab(
    app: gr.Blocks, settings: Settings, bot: Chatbot, access: Access, scope: gr.Dropdown
) -> tuple[gr.Dropdown, gr.Button]:
    """Build the tab inside `app` and wire it; `scope` is the chat's document filter, whose
    choices follow the library. What each event returns depends on who sent it, decided
    then: readers get the documents' names for the filter, never the table."""
    uploads_limit = RateLimit(settings.uploads_per_hour, 3600)
    with gr.Tab("Library", id="library", elem_id="library-tab"):
        readers_note = gr.Markdown("Only editors can see and change the library.", visible=False)
        with gr.Column() as library_controls:
            library = gr.HTML(elem_id="library")
            with gr.Row():
                doomed = gr.Dropdown(choices=[], label="Document", elem_id="doomed", scale=4)
                view = gr.Button("View", elem_id="view-document", scale=1)
                remove = gr.Button("Remove…", variant="stop", elem_id="remove", scale=1)
            with gr.Row(visible=False) as confirmation:
                question_to_confirm = gr.HTML(elem_id="confirm-text")
                confirm = gr.Button("Yes, remove it", variant="stop", elem_id="confirm-remove")
                cancel = gr.Button("Keep it", elem_id="cancel-remove")
            files = gr.File(
                file_count="multiple",
                # Checked here, not by Gradio (whose refusal is two toasts and an empty
                # box): a refused file is named in the upload's one report.
                elem_id="upload",
                label=f"Text, Markdown, HTML, PDF or Word (.docx), up to "
                f"{settings.max_upload_bytes // 1_000_000} MB each, "
                f"{settings.max_upload_files} at a time",
            )
            add = gr.Button("Add to the library", variant="primary", elem_id="add")
            added = gr.Textbox(elem_id="ingest-status", show_label=False, interactive=False)

    listings = [library, doomed, scope]
    unchanged = (gr.skip(), gr.skip(), gr.skip())

    def editor(request: gr.Request) -> tuple[Visitor | None, str]:
        """The editor who sent this event, or why they may not change the library."""
        who = page_visitor(access, request)
        if who is None:
            return None, SIGN_IN_AGAIN
        return (who, "") if who.may_edit else (None, ONLY_EDITORS)

    # Gradio fills `progress` in and mirrors the ingest's progress bars on the page.
    def add_documents(
        uploaded,
        chosen,
        request: gr.Request,
        progress=gr.Progress(track_tqdm=True),  # noqa: B008
    ):
        who, refusal = editor(request)
        if who is None:
            return refusal, *unchanged
        uploaded = list(uploaded or ())
        if len(uploaded) > settings.max_upload_files:
            said = f"⚠ At most {settings.max_upload_files} files at a time; nothing was added."
            return said, *unchanged
        if uploads_limit.room(who.name) < len(uploaded):
            return uploads_message(settings.uploads_per_hour), *unchanged
        report, done = _add_documents(bot, settings, uploaded, who.name)
        uploads_limit.spend(who.name, done)
        return report, *_listings(bot, chosen, who)

    add.click(add_documents, [files, scope], [added, *listings])

    def ask_to_confirm(document_id, request: gr.Request):
        who, refusal = editor(request)
        if who is None:
            return gr.update(visible=False), "", refusal
        document = _document(bot, document_id)
        if document is None:
            return gr.update(visible=False), "", "Choose a document to remove first."
        text = f"Remove <b>{as_text(document.name)}</b> ({_passages(document)})?"
        return gr.update(visible=True), text, ""

    def remove_document(document_id, chosen, request: gr.Request):
        who, refusal = editor(request)
        if who is None:
            return gr.update(visible=False), refusal, *unchanged
        said = _remove(bot, document_id, who.name)
        return gr.update(visible=False), said, *_listings(bot, chosen, who)

    remove.click(ask_to_confirm, doomed, [confirmation, question_to_confirm, added])
    confirm.click(remove_document, [doomed, scope], [confirmation, added, *listings])
    cancel.click(lambda: gr.update(visible=False), None, confirmation)
    # Confirming removes the document shown in the question, never one chosen after it.
    doomed.change(lambda: gr.update(visible=False), None, confirmation)

    def on_load(request: gr.Request):
        # Another process may have changed the library since the page was built; the
        # library's list and controls are there for editors only.
        who = page_visitor(access, request)
        if who is None:
            return *unchanged, gr.update(visible=False), gr.update(visible=True)
        shown = (gr.update(visible=who.may_edit), gr.update(visible=not who.may_edit))
        return *_listings(bot, (), who), *shown

    app.load(on_load, None, [*listings, library_controls, readers_note])
    return doomed, view


def _listings(bot: Chatbot, chosen, who: Visitor):
    """The library table and the document choices of the remove and scope controls, as
    `who` may see them; the documents `chosen` as the scope stay chosen while they are in
    the library."""
    documents = bot.store.documents()
    choices = document_choices(documents, with_paths=who.may_edit)
    ids = {d.id for d in documents}
    still = [i for i in chosen or () if i in ids]
    scope = gr.update(choices=choices, value=still)
    if not who.may_edit:
        return "", gr.update(choices=[], value=None), scope
    return library_html(documents), gr.update(choices=choices, value=None), scope


def document_choices(documents: list[Document], with_paths: bool) -> list[tuple[str, str]]:
    """(label, id) of each document for a chooser: its name, and where two folders share a
    name, its path (for editors) or its id (for anyone else: never a path)."""
    names = [d.name for d in documents]

    def label(d: Document) -> str:
        if names.count(d.name) == 1:
            return d.name
        return f"{d.name} ({d.path if with_paths else d.id[:8]})"

    return [(label(d), d.id) for d in documents]


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
    return f"Removed {document.name} ({_passages(document)})."


def _passages(document: Document) -> str:
    return f"{document.passages} passage{'' if document.passages == 1 else 's'}"


def safe_name(name: str) -> str:
    """A file name with no folders, keeping its letters and digits in any script (in Unicode
    NFC form) and its extension; every other run of characters becomes one "-"."""
    base = Path(unicodedata.normalize("NFC", name).replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    # \w is Unicode-aware: "café 文件" keeps its letters; "_" is the one \w that is no letter.
    stem = re.sub(r"[^\w.-]+", "-", stem).strip(".-_")[:80] or "document"
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


def _add_documents(bot: Chatbot, settings: Settings, uploaded, user: str) -> tuple[str, int]:
    """Copy uploads into the data directory's uploads folder and ingest them, as one change:
    a file lands in the library with its audit line under `user`, or leaves nothing behind.
    What to tell the uploader, and how many files were added."""
    from ingest.pipeline import document_id, ingest, writing  # noqa: PLC0415

    if not uploaded:
        return "Choose one or more files first.", 0
    folder = settings.uploads_dir
    refused, accepted = [], []
    for item in uploaded:
        path = Path(item if isinstance(item, str) else item.name)
        if reason := _refusal(path, settings):
            refused.append(f"{path.name}: {reason}")
        else:
            accepted.append(path)
    if not accepted:
        return "\n".join(f"⚠ not added: {line}" for line in refused), 0
    created: list[Path] = []
    try:
        # The writer's lock first: nothing is in uploads/ that this upload did not ingest.
        with writing(settings):
            folder.mkdir(parents=True, exist_ok=True)
            targets = []
            for path in accepted:
                content = path.read_bytes()
                target = upload_target(folder, safe_name(path.name), content)
                if not target.exists():
                    _write_new(target, content)
                    created.append(target)
                targets.append(target)
            report = ingest(
                targets, settings, store=bot.store, user=user, action="upload", locked=True
            )
            stored = bot.store.content_hashes([document_id(t) for t in created])
            for target in created:
                if document_id(target) not in stored:  # skipped: it leaves nothing behind
                    target.unlink(missing_ok=True)
    except BaseException as error:
        for target in created:
            target.unlink(missing_ok=True)
        if created:  # an ingest that began may have changed the library before it failed
            bot.retriever.refresh()
        if not isinstance(error, RagError):
            raise
        return f"⚠ {error}", 0
    bot.retriever.refresh()
    lines = [f"Added. {report.summary()}"] + [f"skipped {s}" for s in report.skipped + refused]
    return "\n".join(lines), report.files_seen


def _refusal(path: Path, settings: Settings) -> str | None:
    """Why an upload is refused before anything is done with it, or None."""
    if path.suffix.lower() not in UPLOAD_TYPES:
        return f"only {', '.join(UPLOAD_TYPES)} files"
    size = path.stat().st_size
    if size == 0:
        return "the file is empty"
    if size > settings.max_upload_bytes:
        return f"larger than {settings.max_upload_bytes:,} bytes"
    return None


def _write_new(target: Path, content: bytes) -> None:
    """Write a file whole or not at all: a crash never leaves half an upload to ingest."""
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(content)
    partial.replace(target)

"""The Library tab: the documents, removal with a confirmation step, and uploads, for
editors; readers see a note instead. Its actions refuse readers themselves, since Gradio's API
reaches them without the page."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import gradio as gr

from rag.access.limits import RateLimit, uploads_message
from rag.engine import Chatbot
from rag.errors import RagError
from rag.settings import Settings
from ui.render import as_text
from ui.visitors import may_edit, user_name, visitor

UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".pdf", ".docx"]
LIBRARY_COLUMNS = ["name", "passages", "characters", "ingested at (UTC)", "added by", "path"]
ONLY_EDITORS = "⚠ Only editors may add or remove documents."


def library_tab(app: gr.Blocks, settings: Settings, bot: Chatbot, scope: gr.Dropdown) -> None:
    """Build the tab inside `app` and wire it; `scope` is the chat's document filter, whose
    choices follow the library."""
    uploads_limit = RateLimit(settings.uploads_per_hour, 3600)
    with gr.Tab("Library", elem_id="library-tab"):
        readers_note = gr.Markdown("Only editors can see and change the library.", visible=False)
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

    listings = [library, doomed, scope]

    # Gradio fills `progress` in and mirrors the ingest's tqdm bar on the page.
    def add_documents(
        uploaded,
        chosen,
        request: gr.Request,
        progress=gr.Progress(track_tqdm=True),  # noqa: B008
    ):
        if not may_edit(settings, request):
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
        if not may_edit(settings, request):
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
        editor = may_edit(settings, request)
        shown = (gr.update(visible=editor), gr.update(visible=not editor))
        return *_listings(bot, ()), *shown

    app.load(on_load, None, [*listings, library_controls, readers_note])


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
    from ingest.pipeline import ingest, writing  # noqa: PLC0415

    if not uploaded:
        return "Choose one or more files first."
    folder = settings.uploads_dir
    folder.mkdir(parents=True, exist_ok=True)
    refused, copied = [], 0
    try:
        # The writer's lock first: a file copied into uploads/ is ingested by this upload,
        # never left for the next uploader's ingest to record under their name.
        with writing(settings):
            for item in uploaded:
                path = Path(item if isinstance(item, str) else item.name)
                if path.suffix.lower() not in UPLOAD_TYPES:
                    refused.append(f"{path.name}: only {', '.join(UPLOAD_TYPES)} files")
                elif path.stat().st_size > settings.max_upload_bytes:
                    refused.append(f"{path.name}: larger than {settings.max_upload_bytes:,} bytes")
                else:
                    content = path.read_bytes()
                    shutil.copy(path, upload_target(folder, safe_name(path.name), content))
                    copied += 1
            if not copied:
                return "\n".join(f"⚠ not added: {line}" for line in refused)
            report = ingest(
                [folder], settings, store=bot.store, user=user, action="upload", locked=True
            )
    except RagError as error:
        return f"⚠ {error}"
    bot.retriever.refresh()
    lines = [f"Added. {report.summary()}"] + [f"skipped {s}" for s in report.skipped + refused]
    return "\n".join(lines)

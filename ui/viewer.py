"""The Document tab: a whole document, opened from a citation or chosen from the library,
with the cited span highlighted and scrolled into view, and every other span this
conversation cited from it marked. PDF and Word documents show their stored text, the text
every citation's offsets index."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from rag.access.policy import Access
from rag.engine import Chatbot
from rag.types import Answer, Citation
from ui.library import document_choices
from ui.render import as_text, document_html
from ui.visitors import page_visitor

VIEWER_TAB = "document"
EMPTY = "<div class='document-name'>Choose a document, or open one from a citation.</div>"


@dataclass(frozen=True)
class ViewerControls:
    """The tab's document choice and the document shown."""

    chosen: gr.Dropdown
    shown: gr.HTML


def viewer_tab() -> ViewerControls:
    """Build the tab (inside the caller's gr.Tabs)."""
    with gr.Tab("Document", id=VIEWER_TAB, elem_id="document-tab"):
        chosen = gr.Dropdown(choices=[], label="Document", elem_id="viewer-document")
        shown = gr.HTML(EMPTY, elem_id="viewer")
    return ViewerControls(chosen, shown)


def shown_document(
    bot: Chatbot, document_id: str, past: list[Answer], focus: Citation | None = None
) -> str:
    """The document's HTML: `focus` highlighted, the conversation's other citations of it
    marked; when it was removed or changed since, the quote as it was cited, saying so."""
    text = bot.retriever.source_text(document_id)
    name = next((d.name for d in bot.store.documents() if d.id == document_id), None)
    if text is None or name is None or (focus and text[focus.start : focus.end] != focus.quote):
        quote = f"<blockquote>{as_text(focus.quote)}</blockquote>" if focus else ""
        return (
            "<div class='document-name'>This document was removed or changed since it was "
            f"cited; the quote as it was cited:</div>{quote}"
        )
    cited = [
        (c.start, c.end)
        for answer in past
        for c in answer.citations
        if c.document_id == document_id and text[c.start : c.end] == c.quote
    ]
    span = (focus.start, focus.end) if focus else (cited[0] if cited else None)
    return document_html(name, text, span, cited)


def wire_viewer(
    app: gr.Blocks,
    viewer: ViewerControls,
    tabs: gr.Tabs,
    bot: Chatbot,
    access: Access,
    target: gr.Textbox,
    answers: gr.State,
    library_pick: tuple[gr.Dropdown, gr.Button],
) -> None:
    """Open documents from a citation (the hidden `target` box, "answer:marker"), from the
    Library tab (its chosen document and View button) and from the tab's own choice."""

    def from_citation(clicked: str, past: list[Answer], request: gr.Request):
        if page_visitor(access, request) is None:
            return gr.skip(), gr.skip(), gr.skip()
        number, n = (int(part) for part in clicked.split(":")[:2])
        answer = past[number] if 0 <= number < len(past) else None
        citation = next((c for c in answer.citations if c.n == n), None) if answer else None
        if citation is None:
            return gr.skip(), gr.skip(), gr.skip()
        shown = shown_document(bot, citation.document_id, past, citation)
        return shown, gr.Tabs(selected=VIEWER_TAB), gr.update(value=citation.document_id)

    def from_library(document_id: str, past: list[Answer], request: gr.Request):
        if page_visitor(access, request) is None or not document_id:
            return gr.skip(), gr.skip(), gr.skip()
        shown = shown_document(bot, document_id, past)
        return shown, gr.Tabs(selected=VIEWER_TAB), gr.update(value=document_id)

    def from_choice(document_id: str, past: list[Answer], request: gr.Request):
        if page_visitor(access, request) is None or not document_id:
            return gr.skip()
        return shown_document(bot, document_id, past)

    def on_load(request: gr.Request):
        if page_visitor(access, request) is None:
            return gr.skip()
        # Anyone who may ask may read: names only, never paths.
        return gr.update(choices=document_choices(bot.store.documents(), with_paths=False))

    opened = [viewer.shown, tabs, viewer.chosen]
    target.change(from_citation, [target, answers], opened, api_name=False)
    picked, view = library_pick
    view.click(from_library, [picked, answers], opened)
    # `input`: only a visitor's choice, never the value set by opening from a citation.
    viewer.chosen.input(from_choice, [viewer.chosen, answers], viewer.shown)
    app.load(on_load, None, viewer.chosen)

"""The list of past conversations beside the chat: reopen, rename, delete, start new.

Each visitor sees their own (ui/conversations.py keeps one folder per user; the person at
this machine, where nobody signs in, is one user). Every answer is saved as it completes."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from rag.access.policy import Access, Visitor
from rag.errors import InvalidInput
from rag.settings import Settings
from rag.types import Answer
from ui.conversations import Conversation, Conversations, conversations_of
from ui.render import as_text, linked_answer
from ui.visitors import page_visitor


@dataclass(frozen=True)
class HistoryControls:
    """The list's components, and the current conversation's id."""

    listing: gr.Radio
    title: gr.Textbox
    rename: gr.Button
    delete: gr.Button
    said: gr.Markdown
    current: gr.State


def history_column() -> HistoryControls:
    """Build the list (inside the caller's layout)."""
    listing = gr.Radio(choices=[], label="Conversations", elem_id="conversations")
    title = gr.Textbox(
        show_label=False, placeholder="New title…", elem_id="conversation-title", max_lines=1
    )
    with gr.Row():
        rename = gr.Button("Rename", size="sm", elem_id="rename-conversation")
        delete = gr.Button("Delete", size="sm", variant="stop", elem_id="delete-conversation")
    said = gr.Markdown(elem_id="conversation-said")
    return HistoryControls(listing, title, rename, delete, said, gr.State(""))


def listed(store: Conversations, current: str | None):
    """The list's update: every conversation, newest first, `current` chosen."""
    choices = [(c.title, c.id) for c in store.all()]
    ids = {i for _, i in choices}
    return gr.update(choices=choices, value=current if current in ids else None)


def saved(settings: Settings, who: Visitor, current: str, answer: Answer):
    """Save a completed answer to the current conversation (or a new one): the id, the list."""
    store = conversations_of(settings.home, who)
    conversation = store.add(current or None, answer)
    return conversation.id, listed(store, conversation.id)


def messages_of(conversation: Conversation) -> list[dict]:
    """The chat's messages of a reopened conversation, markers linked to their sources."""
    messages = []
    for number, answer in enumerate(conversation.answers):
        messages.append({"role": "user", "content": as_text(answer.question)})
        messages.append({"role": "assistant", "content": linked_answer(answer, number)})
    return messages


def wire_history(
    app: gr.Blocks,
    controls: HistoryControls,
    settings: Settings,
    access: Access,
    chat_outputs: list,
    reopen,
    cleared,
) -> None:
    """Wire the list to the chat: choosing a conversation shows `reopen(conversation)` in
    `chat_outputs`; deleting the open one shows `cleared()`."""
    unchanged = [gr.skip()] * len(chat_outputs)

    def visitor_store(request: gr.Request) -> Conversations | None:
        who = page_visitor(access, request)
        return None if who is None else conversations_of(settings.home, who)

    def open_chosen(chosen: str, request: gr.Request):
        store = visitor_store(request)
        conversation = store.get(chosen) if store and chosen else None
        if conversation is None:
            return gr.skip(), *unchanged
        return conversation.id, *reopen(conversation)

    def rename(current: str, title: str, request: gr.Request):
        store = visitor_store(request)
        if store is None or not current:
            return gr.skip(), "Open a conversation to rename it.", gr.skip()
        try:
            store.rename(current, title)
        except InvalidInput as error:
            return gr.skip(), f"⚠ {error}", gr.skip()
        return listed(store, current), "", ""

    def delete(current: str, request: gr.Request):
        store = visitor_store(request)
        if store is None or not current:
            return gr.skip(), "Open a conversation to delete it.", gr.skip(), *unchanged
        try:
            store.delete(current)
        except InvalidInput as error:
            return gr.skip(), f"⚠ {error}", gr.skip(), *unchanged
        return listed(store, None), "Deleted.", "", *cleared()

    def on_load(request: gr.Request):
        store = visitor_store(request)
        return gr.skip() if store is None else listed(store, None)

    c = controls
    # `input`, not `change`: only a visitor's choice opens a conversation, never the list
    # being updated after an answer.
    c.listing.input(open_chosen, c.listing, [c.current, *chat_outputs])
    c.rename.click(rename, [c.current, c.title], [c.listing, c.said, c.title])
    c.delete.click(delete, c.current, [c.listing, c.said, c.current, *chat_outputs])
    app.load(on_load, None, c.listing)

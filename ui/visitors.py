"""Who is on the page, decided on every event from the users file as it is now
(rag/access/policy.py): the signed-in user if they still exist, or the person at this
machine where nobody signs in."""

from __future__ import annotations

import gradio as gr

from rag.access.policy import Access, Visitor

# Said when an event comes from a session that may no longer be served.
SIGN_IN_AGAIN = "⚠ Please reload the page and sign in: this session is no longer signed in."


def page_visitor(access: Access, request: gr.Request | None) -> Visitor | None:
    """Who sent this event, or None when it must not be served."""
    client = getattr(request, "client", None)
    return access.page_visitor(
        getattr(request, "username", None), client.host if client else "unknown"
    )

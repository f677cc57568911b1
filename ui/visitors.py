"""Who is on the page: the signed-in user (or the visitor's address), and what they may do."""

from __future__ import annotations

import gradio as gr

from rag.access.users import EDITOR, users_at
from rag.settings import Settings


def may_edit(settings: Settings, request: gr.Request | None) -> bool:
    """Editors, or everyone where nobody signs in (a page on this machine only)."""
    users = users_at(settings.users_file).all()
    if not users:
        return True
    user = users.get(getattr(request, "username", None) or "")
    return user is not None and user.role == EDITOR


def user_name(request: gr.Request | None) -> str:
    """Who did it, for the audit log: the signed-in user, or the page without sign-in."""
    return getattr(request, "username", None) or "page (no sign-in)"


def visitor(request: gr.Request | None) -> str:
    """Whom a limit counts: the signed-in user, else the visitor's address."""
    name = getattr(request, "username", None)
    client = getattr(request, "client", None)
    return name or (client.host if client else "unknown")

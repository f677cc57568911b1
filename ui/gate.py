"""Sign-in on the page, decided on every request (ASGI middleware around Gradio's app).

Gradio decides at launch whether its page asks for sign-in and keeps every session it ever
signed in. Here, each request first brings Gradio in line with the users file as it is now
(rag/access/policy.py): sign-in is asked for as soon as anyone is signed up (or always, on
a page beyond this machine), a session ends at once when its user is removed or their
password changes (a session belongs to the password it signed in with), and only editors
may post files to Gradio's upload route. (Body sizes are limited in front of it:
ui/bodies.py.)
"""

from __future__ import annotations

import sys

from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse

from rag.access.policy import Access
from rag.access.users import UNREADABLE
from rag.errors import RagError

# Routes that take files from a visitor: editors only (readers have nothing to upload).
_EDITORS_ROUTES = ("/gradio_api/upload", "/gradio_api/process_recording")
_SIGN_IN_ROUTE = "/login"


class SessionGate:
    """Wraps Gradio's ASGI app (its `App`, which `scope["app"]` is inside its middleware)."""

    def __init__(self, app, access: Access):
        self.app = app
        self.access = access
        self._signed_with: dict[str, str] = {}  # session token -> password hash it began with

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        gradio = scope["app"]
        connection = HTTPConnection(scope)
        try:
            self.access.users.all()  # an unreadable users file stops every request here
            # Gradio reads `auth` on every request: None serves without sign-in.
            gradio.auth = self.access.password_ok if self.access.sign_in_required() else None
            user = self._session_user(gradio, connection)
            client = connection.client.host if connection.client else "unknown"
            visitor = self.access.page_visitor(user, client)
        except RagError as error:
            print(f"error: {error}", file=sys.stderr, flush=True)
            return await _refuse(503, UNREADABLE, scope, receive, send)
        path = scope["path"]
        editors_only = scope["type"] == "http" and path.endswith(_EDITORS_ROUTES)
        if editors_only and (visitor is None or not visitor.may_edit):
            return await _refuse(403, "Only editors may add files.", scope, receive, send)
        if scope["type"] == "http" and path.rstrip("/").endswith(_SIGN_IN_ROUTE):
            return await self.app(scope, receive, self._binding(gradio, send))
        return await self.app(scope, receive, send)

    def _binding(self, gradio, send):
        """`send` that ties a session Gradio starts at sign-in to the password hash it was
        started with, at that moment (not at the session's first use)."""

        async def bind(message):
            if message["type"] == "http.response.start" and message["status"] == 200:
                for name, value in message.get("headers", []):
                    if name.lower() != b"set-cookie":
                        continue
                    key, _, rest = value.decode("latin-1").partition("=")
                    token = rest.split(";", 1)[0]
                    user = self.access.users.all().get(gradio.tokens.get(token, ""))
                    if key.startswith("access-token") and user is not None:
                        self._signed_with[token] = user.password_hash
            await send(message)

        return bind

    def _session_user(self, gradio, connection: HTTPConnection) -> str | None:
        """The user this request's session cookie names; the session ended if that user is
        gone or signs in with another password now."""
        for kind in ("access-token", "access-token-unsecure"):
            token = connection.cookies.get(f"{kind}-{gradio.cookie_id}")
            name = gradio.tokens.get(token) if token else None
            if name is None:
                continue
            user = self.access.users.all().get(name)
            # Every sign-in is bound as it happens (_binding); this is only a fallback.
            began = self._signed_with.setdefault(token, user.password_hash if user else "")
            if user is None or user.password_hash != began:
                gradio.tokens.pop(token, None)
                self._signed_with.pop(token, None)
                return None
            return name
        return None


async def _refuse(status: int, message: str, scope, receive, send) -> None:
    if scope["type"] == "websocket":
        return await send({"type": "websocket.close", "code": 1008})
    return await PlainTextResponse(message, status_code=status)(scope, receive, send)

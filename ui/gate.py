"""Sign-in on the page, decided on every request (ASGI middleware around Gradio's app).

Gradio decides at launch whether its page asks for sign-in and keeps every session it ever
signed in. Here, each request first brings Gradio in line with the users file as it is now
(rag/access/policy.py): sign-in is asked for as soon as anyone is signed up (or always, on
a page beyond this machine), a session whose user was removed ends at once, only editors may
post files to Gradio's upload route, and no request body may be larger than one upload.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse

from rag.access.policy import Access
from rag.errors import RagError

_UPLOAD_ROUTE = "/gradio_api/upload"


class SessionGate:
    """Wraps Gradio's ASGI app (its `App`, which `scope["app"]` is inside its middleware)."""

    def __init__(self, app, access: Access, max_body_bytes: int):
        self.app = app
        self.access = access
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        gradio = scope["app"]
        connection = HTTPConnection(scope)
        try:
            # Gradio reads `auth` on every request: None serves without sign-in.
            gradio.auth = self.access.password_ok if self.access.sign_in_required() else None
            user = self._session_user(gradio, connection)
            client = connection.client.host if connection.client else "unknown"
            visitor = self.access.page_visitor(user, client)
        except RagError as error:  # an unreadable users file: nobody is let in
            return await _refuse(503, str(error), scope, receive, send)
        if scope["type"] == "http" and scope["path"].endswith(_UPLOAD_ROUTE):
            if visitor is None or not visitor.may_edit:
                return await _refuse(403, "Only editors may add documents.", scope, receive, send)
            length = connection.headers.get("content-length", "")
            if length.isdigit() and int(length) > self.max_body_bytes:
                said = f"An upload may carry at most {self.max_body_bytes:,} bytes."
                return await _refuse(413, said, scope, receive, send)
            receive = _capped(receive, self.max_body_bytes)
        return await self.app(scope, receive, send)

    def _session_user(self, gradio, connection: HTTPConnection) -> str | None:
        """The user this request's session cookie names, the session ended if they are gone."""
        for kind in ("access-token", "access-token-unsecure"):
            token = connection.cookies.get(f"{kind}-{gradio.cookie_id}")
            user = gradio.tokens.get(token) if token else None
            if user is None:
                continue
            if self.access.users.all().get(user) is None:
                gradio.tokens.pop(token, None)
                return None
            return user
        return None


def _capped(receive, limit: int):
    """`receive` that stops a body (sent without a length) once it passes `limit` bytes."""
    seen = 0

    async def capped():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise ValueError(f"request body over {limit:,} bytes")
        return message

    return capped


async def _refuse(status: int, message: str, scope, receive, send) -> None:
    if scope["type"] == "websocket":
        return await send({"type": "websocket.close", "code": 1008})
    return await PlainTextResponse(message, status_code=status)(scope, receive, send)

"""A limit on request bodies, as ASGI middleware in front of the page and the API: a body
larger than allowed is refused with 413 before any of it reaches the app (which would read
it whole, signed in or not, to parse or authorize it)."""

from __future__ import annotations

from starlette.responses import JSONResponse, PlainTextResponse

# Questions are short and histories bounded by them: no JSON request needs more.
MAX_REQUEST_BYTES = 8_000_000


class BodyLimit:
    """At most `limit` bytes per request body; `larger` maps a path suffix to its own limit."""

    def __init__(
        self,
        app,
        limit: int = MAX_REQUEST_BYTES,
        larger: dict[str, int] | None = None,
        json_errors: bool = False,
    ):
        self.app = app
        self.limit = limit
        self.larger = larger or {}
        self.json_errors = json_errors  # OpenAI's error shape, for the API

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        limit = next((n for s, n in self.larger.items() if scope["path"].endswith(s)), self.limit)
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit():
            if int(length) > limit:
                return await self._too_large(limit, scope, receive, send)
            return await self.app(scope, receive, send)
        # No length given (chunked): read up to the limit first, then hand the body on.
        messages, seen = [], 0
        while True:
            message = await receive()
            messages.append(message)
            seen += len(message.get("body", b""))
            if seen > limit:
                return await self._too_large(limit, scope, receive, send)
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay():
            return messages.pop(0) if messages else await receive()

        return await self.app(scope, replay, send)

    async def _too_large(self, limit: int, scope, receive, send) -> None:
        said = f"The request is larger than the {limit:,} bytes allowed."
        if self.json_errors:
            error = {"message": said, "type": "invalid_request_error", "param": None}
            response = JSONResponse({"error": {**error, "code": "request_too_large"}}, 413)
        else:
            response = PlainTextResponse(said, status_code=413)
        await response(scope, receive, send)

"""Security headers for the page and the API, as ASGI middleware.

Every response gets `X-Content-Type-Options: nosniff`, `Referrer-Policy` and a
Content-Security-Policy; session cookies are HttpOnly and SameSite=Lax. The page's policy
allows only the scripts the app itself serves: its files, and its own inline scripts by hash,
computed from each HTML response, so no inline script or event handler that came from a
document can run even if it ever reached the page unescaped.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import MutableHeaders

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
PAGE_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-eval' {hashes}; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def page_policy(html: bytes) -> str:
    """The page's policy: the app's own inline scripts allowed by their SHA-256, nothing else."""
    hashes = sorted(
        {
            "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
            for body in _INLINE_SCRIPT.findall(html)
        }
    )
    return PAGE_POLICY.format(hashes=" ".join(hashes))


class SecurityHeaders:
    """Adds the headers to every HTTP response of the wrapped ASGI app."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        held: dict = {}  # an HTML response's start, held until its body is complete
        chunks: list[bytes] = []

        async def send_secured(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                _tighten_cookies(headers)
                if headers.get("content-type", "").startswith("text/html"):
                    held["start"] = message
                    return
                headers["Content-Security-Policy"] = API_POLICY
                return await send(message)
            if message["type"] == "http.response.body" and "start" in held:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = b"".join(chunks)
                MutableHeaders(scope=held["start"])["Content-Security-Policy"] = page_policy(body)
                await send(held.pop("start"))
                return await send({"type": "http.response.body", "body": body})
            return await send(message)

        return await self.app(scope, receive, send_secured)


def _tighten_cookies(headers: MutableHeaders) -> None:
    """Every cookie HttpOnly and SameSite=Lax (Gradio sets SameSite=None on one of its own)."""
    cookies = headers.getlist("set-cookie")
    if not cookies:
        return
    del headers["set-cookie"]
    for cookie in cookies:
        parts = [p for p in cookie.split(";") if p.strip().lower().split("=")[0] not in _REPLACED]
        headers.append("set-cookie", "; ".join([*(p.strip() for p in parts), *_COOKIE_FLAGS]))


_REPLACED = {"samesite", "httponly"}
_COOKIE_FLAGS = ("HttpOnly", "SameSite=Lax")

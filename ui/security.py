"""Security headers for the page and the API, as ASGI middleware.

Every response gets `X-Content-Type-Options: nosniff`, `Referrer-Policy` and a
Content-Security-Policy; session cookies are HttpOnly and SameSite=Lax.

The page's policy allows scripts from the app's own files ('self') and exactly the app's own
inline scripts, decided once, from the app rather than from each response:
- ours (ui/render.py's CITATION_CLICKS), by its hash, computed once;
- Gradio's, which carry per-request values (its config, the URL the page was reached at):
  an inline script is allowed only if it is one of the inline scripts of Gradio's page
  template, read once at start, with each template slot filled by a JSON value (what
  Gradio's `toorjson` writes there). Any other inline script in a response, and every inline
  event handler, is refused by the browser.
'unsafe-eval' stays: Gradio 6's HTML component (the sources panel) renders its template
and runs its `js_on_load` with `new Function`, and without it the panel stays empty (seen in
Chromium: "EvalError: Evaluating a string as JavaScript violates ... 'unsafe-eval'"). It
lets the app's own scripts evaluate strings; it does not let any inline script run that is
not the app's. Our own script is a plain <script> in the page's head, not Gradio's `js=`
(which is evaluated too).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from pathlib import Path

from starlette.datastructures import MutableHeaders

from ui.render import CITATION_CLICKS

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)
_SLOT = re.compile(r"\{\{.*?\}\}", re.S)
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
PAGE_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-eval' {hashes}; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)
# The page's own script, as the page's <head> carries it (ui/app.py).
OWN_SCRIPT = f"({CITATION_CLICKS.strip()})();"
OWN_HEAD = f"<script>{OWN_SCRIPT}</script>"


def _hash(body: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"


@cache
def _gradio_scripts() -> tuple[re.Pattern, ...]:
    """Gradio's page template's inline scripts, each slot a capture group (read once)."""
    import gradio  # noqa: PLC0415

    template = Path(gradio.__file__).parent / "templates" / "frontend" / "index.html"
    patterns = []
    for body in _INLINE_SCRIPT.findall(template.read_bytes()):
        parts = _SLOT.split(body.decode("utf-8"))
        patterns.append(re.compile("(.*?)".join(re.escape(p) for p in parts), re.S))
    return tuple(patterns)


def _is_gradios(body: str) -> bool:
    for pattern in _gradio_scripts():
        match = pattern.fullmatch(body)
        if match and all(_is_json(slot) for slot in match.groups()):
            return True
    return False


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def page_policy(html: bytes) -> str:
    """The page's policy for one HTML response: its hashes are those of our own script and
    of the inline scripts that are Gradio's template's (see the module docstring)."""
    hashes = {_hash(OWN_SCRIPT.encode())}
    for body in _INLINE_SCRIPT.findall(html):
        if _is_gradios(body.decode("utf-8", "replace")):
            hashes.add(_hash(body))
    return PAGE_POLICY.format(hashes=" ".join(sorted(hashes)))


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

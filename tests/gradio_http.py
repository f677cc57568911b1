"""The page's own HTTP API, called as a browser (or anyone with curl) calls it: sign in with a
form, read the page's config, run any of its events by number through Gradio's queue."""

from __future__ import annotations

import json
import uuid

import httpx


class PageClient:
    """One visitor of a running `rag ui`: anonymous, or signed in as `user`."""

    def __init__(self, url: str, user: str | None = None, password: str | None = None):
        self.http = httpx.Client(base_url=url, timeout=120)
        if user is not None:
            signed = self.http.post("/login", data={"username": user, "password": password})
            assert signed.status_code == 200, signed.text

    def config(self) -> httpx.Response:
        return self.http.get("/config")

    def events(self) -> list[dict]:
        """Every event of the page that runs Python (what can be called over HTTP)."""
        config = self.config().json()
        return [d for d in config["dependencies"] if d.get("backend_fn")]

    def call(self, fn_index: int, data: list, event_data=None) -> int | dict:
        """Run one event: its HTTP status if the queue refuses it, else the event's last
        message (with "output" when it completed)."""
        session = uuid.uuid4().hex
        joined = self.http.post(
            "/gradio_api/queue/join",
            json={
                "data": data,
                "fn_index": fn_index,
                "session_hash": session,
                "event_data": event_data,
                "trigger_id": None,
            },
        )
        if joined.status_code != 200:
            return joined.status_code
        last: dict = {}
        with self.http.stream(
            "GET", "/gradio_api/queue/data", params={"session_hash": session}
        ) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                last = json.loads(line[5:])
                if last.get("msg") in ("process_completed", "close_stream", "unexpected_error"):
                    break
        return last

    def close(self) -> None:
        self.http.close()

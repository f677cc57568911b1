"""The web app under more questions than it will queue: visitors are told it is busy."""

import importlib.util
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import require
from tests.servers import free_port, running

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def tiny_app(tmp_path_factory):
    """`rag ui` answering one question at a time, with room for one more in its queue."""
    require(importlib.util.find_spec("llama_cpp") is not None, "the llm extra (llama-cpp)")
    home = tmp_path_factory.mktemp("tiny-app")
    port = free_port()
    env = {
        **os.environ,
        "RAG_HOME": str(home),
        "HF_HUB_OFFLINE": "1",
        "RAG_UI_CONCURRENCY": "1",
        "RAG_UI_QUEUE_SIZE": "1",
    }
    url = f"http://127.0.0.1:{port}/"
    command = [sys.executable, "-m", "ui.cli", "ui", "--port", str(port)]
    with running(command, url, home / "ui.log", env=env):
        yield url


def test_a_full_queue_gets_a_clean_busy_message(tiny_app):
    from gradio_client import Client

    def ask(i):
        try:
            client = Client(tiny_app, verbose=False)
            # The LLM mode is slow enough on the packaged model to keep the queue full.
            client.predict(f"Why did Liu Jun return to China? ({i})", [], "llm", api_name="/ask")
            return "answered"
        except Exception as error:  # the client raises the app's message as an exception
            return str(error)

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(ask, range(6)))
    assert "answered" in outcomes
    busy = [o for o in outcomes if o != "answered"]
    assert busy, outcomes
    assert all("queue is full" in o.lower() for o in busy), busy
    assert not any("Traceback" in o for o in outcomes)

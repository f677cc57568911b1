"""The llm mode against real models: a llama.cpp server (OpenAI-compatible, streaming) and the
managed local-model server, both running the packaged Gemma 3 270M. No mock stands in for an
LLM; the two fault servers below are real sockets that misbehave, named as such, and the
crashes are real signals sent to the real model process."""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from rag.engine import Chatbot
from rag.language.words import content_terms
from rag.llm.backends import packaged_gguf
from rag.llm.draft import UNVERIFIED
from rag.llm.verify import ECHOED, split_claims
from tests.conftest import require
from tests.servers import free_port, running

pytestmark = pytest.mark.llm
QUESTIONS = ["Why did Liu Jun return to China?", "What title was Liu Jun given at Tsinghua?"]


@pytest.fixture(scope="module")
def gguf(seeded_settings):
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        require(False, "the llm extra (llama-cpp-python)")
    return packaged_gguf(seeded_settings)


@pytest.fixture(scope="module")
def llama_server(gguf, tmp_path_factory):
    """`python -m llama_cpp.server` with the packaged model on 127.0.0.1, for this module."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "4096",
        "--n_threads",
        "2",
        "--model_alias",
        "gemma",
    ]
    url = f"http://127.0.0.1:{port}/v1"
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with running(command, url + "/models", log, timeout=180):
        yield url


@pytest.fixture(scope="module")
def server_bot(seeded_settings, llama_server) -> Chatbot:
    """A Chatbot whose llm mode goes to the llama.cpp server over its OpenAI-compatible API."""
    return _bot(
        seeded_settings,
        llm_backend="openai",
        llm_base_url=llama_server,
        llm_model="gemma",
        llm_timeout=120,
    )


def _bot(settings, **overrides) -> Chatbot:
    return Chatbot(type(settings)(**{**settings.model_dump(), **overrides}))


_NUMBER = re.compile(r"\d+(?:[,.]\d+)*")
_NAME = re.compile(r"(?<=\w )[A-Z][\w’'-]+")  # a capitalised word that does not start the sentence


def _assert_verified(bot: Chatbot, answer) -> None:
    """Whatever the model wrote: exact citations; every kept sentence cites a quote that says
    what it says; every other sentence of the draft is listed as removed, with its reason; and
    an answer that fell back says why."""
    numbers = {c.n for c in answer.citations}
    assert [c.n for c in answer.citations] == list(range(1, len(numbers) + 1))
    consulted = {p.id for p in answer.passages}
    for c in answer.citations:
        assert bot.retriever.source_text(c.document_id)[c.start : c.end] == c.quote
        assert c.passage_id in consulted
    drafted = [claim for claim, _ in split_claims(answer.draft)]
    assert drafted, answer.draft
    assert all(r.reason for r in answer.removed)
    # An echo of the prompt after the answer is listed once, as what followed the answer.
    echoed = [r.sentence for r in answer.removed if r.reason == ECHOED]
    assert len(echoed) <= 1 and all(e[:40] in answer.draft for e in echoed)
    removed = [r.sentence for r in answer.removed if r.reason != ECHOED]
    if answer.mode != "llm":
        # Verification removed every sentence of the draft, and the notice says so.
        assert answer.mode == "extractive"
        assert answer.notice == f"{UNVERIFIED}; this answer quotes them instead."
        assert removed == drafted
        return
    assert not answer.notice
    claims = split_claims(answer.text)
    assert claims and all(markers for _, markers in claims)
    # Nothing is dropped silently: each drafted sentence is kept or listed as removed.
    assert sorted([claim for claim, _ in claims] + removed) == sorted(drafted)
    for claim, markers in claims:
        assert len(markers) == 1 and markers[0] in numbers, (claim, markers)
        quote = next(c.quote for c in answer.citations if c.n == markers[0])
        shared = set(content_terms(claim)) & set(content_terms(quote))
        assert shared, (claim, quote)
        for fact in _NUMBER.findall(claim) + _NAME.findall(claim):
            assert fact.lower() in quote.lower(), (claim, quote, fact)


@pytest.mark.parametrize("question", QUESTIONS)
def test_openai_compatible_server_streams_and_every_kept_sentence_is_verified(server_bot, question):
    bot = server_bot
    tokens = []
    answer = bot.answer(question, mode="llm", on_token=tokens.append)
    assert len(tokens) > 3 and "".join(tokens) == answer.draft
    _assert_verified(bot, answer)


def test_the_packaged_model_runs_in_its_own_process_and_is_verified(seeded_settings, gguf):
    from rag.llm.backends import local_server

    bot = _bot(seeded_settings, llm_backend="gguf")
    answer = bot.answer(
        "What has made the US less welcoming for Chinese-born scientists?", mode="llm"
    )
    assert answer.draft
    _assert_verified(bot, answer)
    server = local_server(str(gguf))
    assert server.alive() and server.process.pid != os.getpid()


@pytest.mark.parametrize("signal_name", ["SIGSEGV", "SIGILL"])
def test_a_crashed_model_costs_one_answer_not_the_app(seeded_settings, gguf, signal_name):
    """A native crash of the model (a real signal to the real server process, mid-answer)
    gives the extractive answer with a notice; the next question starts a fresh model."""
    from rag.llm.backends import local_server

    bot = _bot(seeded_settings, llm_backend="gguf")
    bot.answer("Who is Liu Jun?", mode="llm")  # the server is up and warm
    server = local_server(str(gguf))
    crashed_pid = server.process.pid

    def crash_on_first_token(_piece):
        if server.process.pid == crashed_pid and server.alive():
            os.kill(crashed_pid, getattr(signal, signal_name))
            server.process.wait(timeout=30)

    question = "Why did Liu Jun return to China?"
    answer = bot.answer(question, mode="llm", on_token=crash_on_first_token)
    assert server.process.returncode == -getattr(signal, signal_name)
    assert answer.mode == "extractive" and answer.citations
    assert answer.text == bot.answer(question).text
    assert (
        answer.notice.startswith("the LLM (local model ") and "quotes the sources" in answer.notice
    )
    again = bot.answer(
        "What has made the US less welcoming for Chinese-born scientists?", mode="llm"
    )
    assert server.alive() and server.process.pid != crashed_pid
    assert again.draft  # the fresh model wrote an answer
    _assert_verified(bot, again)


def test_follow_up_is_condensed_and_shown(server_bot):
    bot = server_bot
    answer = bot.answer("How old was he then?", ["Why did Liu Jun return to China?"], mode="llm")
    assert "Liu Jun" in answer.standalone_question
    assert answer.to_dict()["standalone_question"] == answer.standalone_question
    _assert_verified(bot, answer)


def test_unreachable_llm_gives_the_extractive_answer_with_a_notice(seeded_settings):
    url = f"http://127.0.0.1:{free_port()}/v1"  # a closed port
    bot = _bot(seeded_settings, llm_backend="openai", llm_base_url=url, llm_timeout=5)
    answer = bot.answer("Why did Liu Jun return to China?", mode="llm")
    assert answer.mode == "extractive" and not answer.refused and answer.citations
    assert answer.text == bot.answer("Why did Liu Jun return to China?").text
    assert answer.notice.startswith(f"the LLM (default at {url}) failed: ")
    assert answer.notice.endswith(". This answer quotes the sources instead.")
    assert "\n" not in answer.notice


class _StalledHandler(BaseHTTPRequestHandler):
    """Fault server: accepts the request and answers nothing until long after the timeout."""

    def do_POST(self):  # noqa: N802 - http.server's naming
        time.sleep(8)

    def log_message(self, *args):
        pass


class _GarbageHandler(BaseHTTPRequestHandler):
    """Fault server: answers 200 with bytes that are not an OpenAI response."""

    def do_POST(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"\x00\x01 not json {{{")

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("handler", [_StalledHandler, _GarbageHandler])
def test_slow_or_garbage_llm_gives_the_extractive_answer(seeded_settings, handler):
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        bot = _bot(
            seeded_settings,
            llm_backend="openai",
            llm_timeout=2,
            llm_base_url=f"http://127.0.0.1:{server.server_port}/v1",
        )
        started = time.monotonic()
        answer = bot.answer("Why did Liu Jun return to China?", mode="llm")
        assert time.monotonic() - started < 60
        assert answer.mode == "extractive" and not answer.refused
        assert "failed" in answer.notice and "quotes the sources instead" in answer.notice
    finally:
        server.shutdown()


class _EchoKeyHandler(BaseHTTPRequestHandler):
    """Fault server: rejects the key and quotes it back in the error, as some APIs do."""

    keys: list[str] = []

    def do_POST(self):  # noqa: N802
        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        self.keys.append(key)
        body = f'{{"error": {{"message": "Incorrect API key provided: {key}"}}}}'.encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_api_key_is_sent_to_the_endpoint_only(seeded_settings, caplog, capfd):
    secret = "sk-test-" + "x" * 20
    _EchoKeyHandler.keys.clear()
    server = HTTPServer(("127.0.0.1", 0), _EchoKeyHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        bot = _bot(
            seeded_settings,
            llm_backend="openai",
            llm_api_key=secret,
            llm_timeout=5,
            llm_base_url=f"http://127.0.0.1:{server.server_port}/v1",
        )
        with caplog.at_level(logging.DEBUG):
            answer = bot.answer("Why did Liu Jun return to China?", mode="llm")
    finally:
        server.shutdown()
    assert _EchoKeyHandler.keys and set(_EchoKeyHandler.keys) == {secret}  # it was used
    assert answer.mode == "extractive" and "failed" in answer.notice
    out, err = capfd.readouterr()
    for shown in (str(answer.to_dict()), answer.draft, repr(bot.settings), caplog.text, out, err):
        assert secret not in shown


def test_the_model_server_ends_when_the_app_that_started_it_is_killed(seeded_settings, gguf):
    """A `rag ui` stopped by SIGKILL runs no clean-up; its model server must not live on."""
    import subprocess

    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from rag.llm.model_server import ModelServer\n"
        f"server = ModelServer({str(gguf)!r}, Path({str(seeded_settings.home)!r}) / 'kill.log')\n"
        "server.ensure_running()\n"
        "print(server.process.pid, flush=True)\n"
        "sys.stdin.read()\n"
    )
    app = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        server_pid = int(app.stdout.readline())
        os.kill(server_pid, 0)  # the model server runs
    finally:
        app.kill()
        app.wait(timeout=30)
    for _ in range(300):  # bounded: the server checks its parent every second
        try:
            os.kill(server_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(server_pid, signal.SIGKILL)
        pytest.fail("the model server outlived the app that started it")

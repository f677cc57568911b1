"""One engine per library: a running server owns its embedded library, and this machine's `rag`
commands go through it, so it answers from what they add at once."""

from __future__ import annotations

import json
import os
import sys
import urllib.request

import pytest

from tests.conftest import rag
from tests.servers import free_port, running

pytestmark = pytest.mark.integration

LIGHTHOUSE = (
    "The Brannock Point lighthouse was first lit in 1871. Its keeper, Odile Varga, kept a "
    "logbook of every ship that passed the headland. The lamp burned whale oil until 1903, "
    "when a kerosene burner replaced it.\n"
)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`rag serve` on a fresh data directory (it ingests the bundled article first)."""
    home = tmp_path_factory.mktemp("owned")
    port = free_port()
    env = {**os.environ, "RAG_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    env.pop("RAG_API_KEY", None)
    command = [sys.executable, "-m", "ui.cli", "serve", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with running(command, url + "/health", home / "serve.log", env=env):
        yield home, url


def _answer(url: str, question: str) -> dict:
    body = json.dumps({"question": question}).encode()
    request = urllib.request.Request(
        url + "/v1/answer", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def test_a_document_ingested_from_the_cli_is_answered_by_the_running_server(served, tmp_path):
    home, url = served
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "lighthouse.txt").write_text(LIGHTHOUSE)
    added = rag("ingest", str(tmp_path / "notes"), home=home)
    assert added.returncode == 0, added.stderr
    assert "through the rag server" in added.stderr
    # A rare word finds it by keywords, a paraphrase by meaning: both indexes know it now.
    for question in ("Who was the keeper of Brannock Point?", "What fuel did the lamp burn?"):
        answer = _answer(url, question)
        assert not answer["refused"], (question, answer["text"])
        assert {c["source"] for c in answer["citations"]} == {"notes/lighthouse.txt"}
    listed = rag("docs", "list", "--json", home=home)
    assert "notes/lighthouse.txt" in {d["name"] for d in json.loads(listed.stdout)}

    removed = rag("docs", "remove", "notes/lighthouse.txt", home=home)
    assert removed.returncode == 0, removed.stderr
    after = _answer(url, "Who was the keeper of Brannock Point?")
    assert "notes/lighthouse.txt" not in {c["source"] for c in after["citations"]}
    assert "notes/lighthouse.txt" not in {p["source"] for p in after["passages"]}


def test_a_second_server_of_the_same_library_is_refused_in_one_line(served):
    home, _ = served
    second = rag("serve", "--port", str(free_port()), home=home, timeout=120)
    assert second.returncode == 1
    assert second.stderr.strip().count("\n") == 0
    assert "already served by another rag process" in second.stderr


def test_server_json_is_private_and_names_a_reachable_url(served):
    home, url = served
    announced = home / "server.json"
    assert json.loads(announced.read_text())["url"] == url
    assert announced.stat().st_mode & 0o077 == 0


def test_with_a_chroma_server_every_process_sees_what_another_added(chroma_server, tmp_path):
    """Chroma is the one source of truth: a process that was answering before another
    process (with its own data directory, as on another machine) ingested a document answers
    from it at its next question, by meaning and by keywords."""
    from rag.engine import Chatbot
    from tests.conftest import make_settings

    shared = {"RAG_CHROMA_URL": chroma_server, "RAG_LIBRARY": "sharedowner"}
    (tmp_path / "first").mkdir()
    (tmp_path / "first" / "mill.txt").write_text(
        "The Aldwick tide mill ground flour for the village until 1911, when its wheel broke.\n"
    )
    assert rag("ingest", str(tmp_path / "first"), home=tmp_path / "a", env=shared).returncode == 0
    settings = make_settings(tmp_path / "b", chroma_url=chroma_server, library="sharedowner")
    bot = Chatbot(settings)
    assert "1911" in bot.answer("When did the tide mill stop grinding flour?").text

    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "lighthouse.txt").write_text(LIGHTHOUSE)
    added = rag("ingest", str(tmp_path / "notes"), home=tmp_path / "c", env=shared)
    assert added.returncode == 0, added.stderr
    assert "through the rag server" not in added.stderr
    answer = bot.answer("Who was the keeper of Brannock Point?")
    assert {c.source for c in answer.citations} == {"notes/lighthouse.txt"}, answer.text
    dense, keywords = bot.retriever.rankings(
        "Who was the keeper of Brannock Point?", bot.embedder.query("keeper Brannock Point")
    )
    lighthouse = {p.id for p in bot.store.all_passages() if p.source == "notes/lighthouse.txt"}
    assert lighthouse & set(dense) and lighthouse & set(keywords)


@pytest.mark.parametrize("command", ["ui", "serve"])
def test_a_server_stopped_with_sigterm_takes_its_server_json_with_it(tmp_path, command):
    port = free_port()
    env = {**os.environ, "RAG_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    ready = f"http://127.0.0.1:{port}/" + ("health" if command == "serve" else "")
    argv = [sys.executable, "-m", "ui.cli", command, "--port", str(port)]
    with running(argv, ready, tmp_path / "server.log", env=env) as server:
        assert (tmp_path / "server.json").exists()
        server.terminate()
        server.wait(timeout=60)
    assert not (tmp_path / "server.json").exists()

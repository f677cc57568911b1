"""Two ingests at once, and questions answered while an ingest writes, with real processes."""

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from bench.crash import make_corpus
from tests.servers import free_port, running

pytestmark = pytest.mark.integration


def _start_ingest(home, corpus):
    env = {**os.environ, "RAG_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "ingest", str(corpus)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_embedding(process, timeout=120):
    """Block until the ingest reports its progress bar: it holds the lock and is writing."""
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline and "Embedding passages" not in seen:
        seen += process.stderr.read(1)
    assert "Embedding passages" in seen, seen


def test_second_ingest_at_the_same_time_is_refused_and_the_first_completes(tmp_path):
    corpus = make_corpus(tmp_path / "corpus")
    first = _start_ingest(tmp_path / "home", corpus)
    _wait_for_embedding(first)
    second = _start_ingest(tmp_path / "home", corpus)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 1
    assert err.strip().splitlines()[-1].startswith("error: another ingest is writing")
    first.communicate(timeout=300)
    assert first.returncode == 0


def test_questions_are_answered_while_an_ingest_writes_through_the_server(tmp_path):
    """The server owns the library: a `rag ingest` started while it answers goes through it,
    questions keep their answers while it writes, and the new documents answer afterwards."""
    home = tmp_path / "home"
    port = free_port()
    env = {**os.environ, "RAG_HOME": str(home), "RAG_QUESTIONS_PER_MINUTE": "0"}
    command = [sys.executable, "-m", "ui.cli", "serve", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with running(command, url + "/health", tmp_path / "serve.log", env=env):
        writer = _start_ingest(home, make_corpus(tmp_path / "corpus"))
        answered = 0
        while writer.poll() is None and answered < 200:
            answer = _ask(url, "Why did Liu Jun return to China?")
            assert "patriotism" in answer["text"]
            answered += 1
        out, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
        assert "through the rag server" in err and answered > 0
        with urllib.request.urlopen(url + "/v1/library", timeout=60) as response:
            names = {d["name"] for d in json.loads(response.read())["documents"]}
        assert any(name.startswith("corpus/variant") for name in names)


def _ask(url: str, question: str) -> dict:
    request = urllib.request.Request(
        url + "/v1/answer",
        data=json.dumps({"question": question}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


QUESTIONS = [
    "Why did Liu Jun return to China?",
    "Who is Chen Jing?",
    "Where did Fu Tianfan go?",
    "How old was Liu Jun when he returned?",
    "What title was Liu Jun given at Tsinghua?",
    "What was the China Initiative?",
    "Which cities are the researchers moving to?",
    "What is Liu Jun's salary at Tsinghua?",
]
ANSWER_ALL = """
import json, sys
from concurrent.futures import ThreadPoolExecutor
from rag.engine import Chatbot
from rag.settings import Settings

questions = json.loads(sys.argv[1])
bot = Chatbot(Settings())
def one(question):
    answer = bot.answer(question)
    return [answer.text, [[c.document_id, c.start, c.end] for c in answer.citations]]
if sys.argv[2] == "together":
    with ThreadPoolExecutor(len(questions)) as pool:
        answers = list(pool.map(one, questions))
else:
    answers = [one(q) for q in questions]
print(json.dumps(answers))
"""


def test_concurrent_questions_in_a_fresh_process_get_the_answers_asked_one_by_one(
    seeded_settings,
):
    """Nothing shared between threads is mutated unguarded: eight questions at once in a cold
    process get exactly the answers the same questions get one by one."""
    env = {**os.environ, "RAG_HOME": str(seeded_settings.home), "HF_HUB_OFFLINE": "1"}

    def answers(how: str) -> list:
        result = subprocess.run(
            [sys.executable, "-c", ANSWER_ALL, json.dumps(QUESTIONS), how],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return json.loads(result.stdout)

    together, one_by_one = answers("together"), answers("one by one")
    for question, a, b in zip(QUESTIONS, together, one_by_one, strict=True):
        assert a == b, question

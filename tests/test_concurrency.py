"""Two ingests at once, and questions answered while an ingest writes, with real processes."""

import os
import subprocess
import sys
import time

import pytest

from bench.crash import make_corpus
from tests.conftest import make_settings

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
    while time.monotonic() < deadline and "embedding" not in seen:
        seen += process.stderr.read(1)
    assert "embedding" in seen, seen


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


def test_questions_are_answered_while_an_ingest_writes(tmp_path):
    from ingest.pipeline import ingest
    from rag.engine import Chatbot

    settings = make_settings(tmp_path / "home")
    ingest([settings.seeds_dir], settings, progress=False)
    bot = Chatbot(settings)
    bot.warm_up()
    writer = _start_ingest(tmp_path / "home", make_corpus(tmp_path / "corpus"))
    _wait_for_embedding(writer)
    answered = 0
    while writer.poll() is None and answered < 200:
        answer = bot.answer("Why did Liu Jun return to China?")
        assert "patriotism" in answer.text
        answered += 1
    writer.communicate(timeout=300)
    assert writer.returncode == 0 and answered > 0
    # The new documents are searchable once the ingest is done.
    bot.retriever.refresh()
    assert any(p.source.startswith("corpus/variant") for p in bot.store.all_passages())

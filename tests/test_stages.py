"""The answering stages take values and return values: a question reads one RetrievalResult,
and text is analysed once, at ingest."""

from __future__ import annotations

import dataclasses

import pytest

from tests.conftest import make_settings
from tests.test_owner import LIGHTHOUSE

pytestmark = pytest.mark.integration


@pytest.fixture
def lighthouse_bot(tmp_path):
    from ingest.pipeline import ingest
    from rag.engine import Chatbot

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "lighthouse.txt").write_text(LIGHTHOUSE)
    settings = make_settings(tmp_path / "home")
    ingest([tmp_path / "docs"], settings, progress=False)
    return Chatbot(settings)


def test_an_answer_reads_only_its_retrieval_result(lighthouse_bot):
    """A document removed between retrieval and scoring changes nothing in that answer: the
    quotes come from the texts the result holds, and stay exact."""
    bot, question = lighthouse_bot, "Who kept the logbook of ships?"
    found = bot.retrieve(question, bot.embedder.query(question))
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.passages = ()
    (document,) = bot.store.documents()
    bot.store.delete_document(document.id)
    bot.store.touch()
    answer = bot.quote(question, found, bot.score(found))
    assert answer.citations
    for c in answer.citations:
        assert (
            LIGHTHOUSE[c.start : c.end]
            == c.quote
            == found.documents[c.document_id].text[c.start : c.end]
        )
    assert bot.answer(question).refused  # the next question sees the library as it is now


def test_questions_never_segment_text(lighthouse_bot, monkeypatch):
    """Sentences and their embeddings were stored at ingest: answering needs neither the
    segmenter nor an embedding of any sentence, only of the question."""
    import rag.language.sentences as sentences

    def refuse(*_args, **_kwargs):
        raise AssertionError("a question segmented text")

    monkeypatch.setattr(sentences, "_paragraph_sentences", refuse)
    embedded: list[list[str]] = []
    real = lighthouse_bot.embedder.texts
    monkeypatch.setattr(
        lighthouse_bot.embedder, "texts", lambda texts: embedded.append(texts) or real(texts)
    )
    answer = lighthouse_bot.answer("When was the lighthouse first lit?")
    assert "1871" in answer.text
    sentences_embedded = [t for batch in embedded for t in batch if len(t.split()) > 3]
    assert sentences_embedded == []

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


def test_a_question_during_an_ingest_sees_the_library_before_it(lighthouse_bot):
    """An ingest writes passages and texts into Chroma before it ends (and advances the
    library's generation): a question in between answers from the library as it was, in
    dense and keyword search alike, never from half of the new one."""
    from llama_index.core.schema import TextNode

    from rag.types import Document

    bot, question = lighthouse_bot, "Who keeps the Harrow Rock beacon?"
    bot.answer("When was the lighthouse first lit?")  # the keyword index is synced
    text = "The Harrow Rock beacon is kept by Ilse Marren, who climbs it every evening.\n"
    vector = bot.embedder.model.get_text_embedding(text)
    metadata = {"source": "docs/beacon.txt", "document": "beacon", "start": 0, "end": len(text) - 1}
    bot.store.add([TextNode(id_="beacon-1", text=text[:-1], embedding=vector, metadata=metadata)])
    document = Document("beacon", "docs/beacon.txt", "/x/beacon.txt", 1, len(text), "2026-12-01")
    bot.store.save_document(
        document, "/x", text, "sha-beacon", ((0, len(text) - 1, 0, len(text) - 1),)
    )
    during = bot.answer(question)
    assert "beacon" not in {c.document_id for c in during.citations}
    assert "beacon" not in {p.document_id for p in during.passages}
    bot.store.touch()  # the ingest ends
    after = bot.answer(question)
    assert {c.document_id for c in after.citations} == {"beacon"}

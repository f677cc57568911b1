"""The document library with real files, the real model and real Chroma (embedded and server):
identity, hidden files, removal, the keyword index following edits, scoped questions."""

import pytest

from ingest.pipeline import document_id, ingest, remove
from rag.engine import Chatbot
from rag.errors import UnknownDocument
from rag.library.catalog import matching, one_document, scope_of
from rag.library.store import PassageStore

pytestmark = pytest.mark.integration

CASTLE = "The castle of Brenmoor was built in 1312 by masons who came from Flanders."
LIGHTHOUSE = "The lighthouse of Carrow was finished in 1867, after a storm wrecked nine ships."


def write(path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_same_named_files_in_two_folders_are_both_kept_and_answerable(store_settings, tmp_path):
    castle = write(tmp_path / "a" / "docs" / "history.txt", CASTLE)
    lighthouse = write(tmp_path / "b" / "docs" / "history.txt", LIGHTHOUSE)
    settings = store_settings()
    ingest([castle.parent, lighthouse.parent], settings, progress=False)
    bot = Chatbot(settings)
    documents = bot.store.documents()
    assert [d.name for d in documents] == ["docs/history.txt", "docs/history.txt"]
    assert {d.path for d in documents} == {str(castle), str(lighthouse)}
    for question, path, text in [
        ("When was the castle of Brenmoor built?", castle, CASTLE),
        ("When was the lighthouse of Carrow finished?", lighthouse, LIGHTHOUSE),
    ]:
        answer = bot.answer(question)
        assert not answer.refused, question
        (citation,) = answer.citations
        assert citation.document_id == document_id(path)
        assert bot.store.source_text(citation.document_id) == text
        assert text[citation.start : citation.end] == citation.quote


def test_hidden_files_and_folders_are_skipped_at_every_level(store_settings, tmp_path):
    folder = tmp_path / "docs"
    write(folder / "castle.txt", CASTLE)
    write(folder / "guide" / "lighthouse.md", LIGHTHOUSE)
    for hidden in [".notes.txt", ".git/HEAD.txt", "guide/.venv/lib/readme.md", ".cache/a/b.txt"]:
        write(folder / hidden, "A hidden file that must never be quoted by the chatbot.")
    settings = store_settings()
    report = ingest([folder], settings, progress=False)
    assert report.files_seen == 2
    names = [d.name for d in PassageStore(settings).documents()]
    assert names == ["docs/castle.txt", "docs/guide/lighthouse.md"]


def test_removed_document_leaves_no_passage_text_or_answer(store_settings, tmp_path):
    folder = tmp_path / "docs"
    castle, lighthouse = write(folder / "castle.txt", CASTLE), write(folder / "l.txt", LIGHTHOUSE)
    settings = store_settings()
    ingest([folder], settings, progress=False)
    bot = Chatbot(settings)
    assert not bot.answer("When was the castle of Brenmoor built?").refused
    doomed = one_document(bot.store.documents(), str(castle))
    # Removed through a second store, as `rag docs remove` in another process does.
    remove([doomed], settings, PassageStore(settings))
    assert bot.store.passage_ids(doomed.id) == set()
    assert bot.store.source_text(doomed.id) is None
    assert [d.path for d in bot.store.documents()] == [str(lighthouse)]
    answer = bot.answer("When was the castle of Brenmoor built?")
    assert answer.refused and not answer.citations
    assert all(p.document_id != doomed.id for p in answer.passages)
    assert not bot.answer("When was the lighthouse of Carrow finished?").refused


def test_keyword_index_follows_an_edit_that_keeps_the_passage_count(store_settings, tmp_path):
    note = write(tmp_path / "docs" / "note.txt", "The harbour pilot's code word is Plumtree.")
    settings = store_settings()
    ingest([note.parent], settings, progress=False)
    bot = Chatbot(settings)
    assert bot.answer("What is the pilot's code word?").citations[0].quote.endswith("Plumtree.")
    write(note, "The harbour pilot's code word is Quinceberry.")
    ingest([note.parent], settings, progress=False, store=PassageStore(settings))
    assert bot.store.count() == 1
    (passage,) = bot.retrieve("Quinceberry", bot.embedder.query("Quinceberry")).passages
    assert passage.text.endswith("Quinceberry.")
    answer = bot.answer("What is the pilot's code word?")
    assert answer.citations[0].quote.endswith("Quinceberry.")


def test_a_scoped_question_searches_and_cites_only_the_chosen_documents(store_settings, tmp_path):
    castle = write(tmp_path / "docs" / "castle.txt", CASTLE + " It overlooks Carrow.")
    # Enough passages about the lighthouse to fill both indexes' unscoped top ranks.
    log = " ".join(
        f"In {1870 + i} the keeper of the Carrow lighthouse logged {i + 3} ships."
        for i in range(80)
    )
    write(tmp_path / "docs" / "lighthouse.txt", f"{LIGHTHOUSE} {log}")
    settings = store_settings()
    ingest([castle.parent], settings, progress=False)
    bot = Chatbot(settings)
    question = "When was the lighthouse of Carrow finished?"
    vector = bot.embedder.query(question)
    assert bot.retrieve(question, vector).passages[0].source == "docs/lighthouse.txt"
    scope = scope_of(bot.store.documents(), ["docs/castle.txt"])
    assert scope == {document_id(castle)}
    castle_passages = [p.id for p in bot.store.all_passages() if p.document_id in scope]
    # Each index is searched within the scope (a filter in Chroma, a mask on BM25), not
    # searched whole and then filtered, which would find nothing here.
    dense, keywords = bot.retriever.rankings(question, vector, scope)
    assert dense == keywords == castle_passages
    answer = bot.answer(question, scope=scope)
    assert answer.refused and [p.id for p in answer.passages] == castle_passages


def test_names_paths_and_ids_find_documents_and_anything_else_is_one_line(store_settings, tmp_path):
    first = write(tmp_path / "a" / "docs" / "history.txt", CASTLE)
    second = write(tmp_path / "b" / "docs" / "history.txt", LIGHTHOUSE)
    settings = store_settings()
    ingest([first.parent, second.parent], settings, progress=False)
    documents = PassageStore(settings).documents()
    assert len(matching(documents, "docs/history.txt")) == 2
    assert one_document(documents, str(second)).id == document_id(second)
    assert one_document(documents, document_id(first)).path == str(first)
    with pytest.raises(UnknownDocument, match="names 2 documents; give its path"):
        one_document(documents, "docs/history.txt")
    with pytest.raises(UnknownDocument, match="no document named 'nothing.txt'"):
        matching(documents, "nothing.txt")


def test_a_store_from_an_older_version_is_named_not_mixed(store_settings, tmp_path):
    settings = store_settings()
    store = PassageStore(settings)
    assert store.legacy_collections() == []
    # What version 2 left behind: a collection of this library without the schema mark.
    old = store.client.get_or_create_collection(f"{settings.library}_0123456789ab")
    old.add(ids=["x"], embeddings=[[0.1, 0.2]], documents=["old"], metadatas=[{"source": "a"}])
    assert PassageStore(settings).legacy_collections() == [old.name]
    assert PassageStore(settings).count() == 0


def test_a_removal_cut_short_after_the_passages_is_finished_by_running_it_again(
    store_settings, tmp_path
):
    castle = write(tmp_path / "docs" / "castle.txt", CASTLE)
    settings = store_settings()
    ingest([castle.parent], settings, progress=False)
    store = PassageStore(settings)
    (doomed,) = store.documents()
    # The state a kill between removal's two writes leaves: passages gone, text still there.
    store.delete_passages(sorted(store.passage_ids(doomed.id)))
    assert Chatbot(settings).answer("When was the castle of Brenmoor built?").refused
    (listed,) = store.documents()
    remove([listed], settings, store)
    assert store.documents() == [] and store.source_text(doomed.id) is None


def test_a_file_ingested_from_its_folder_then_from_a_parent_is_one_document(
    store_settings, tmp_path
):
    castle = write(tmp_path / "docs" / "sub" / "castle.txt", CASTLE)
    settings = store_settings()
    ingest([castle.parent], settings, progress=False)
    ingest([tmp_path / "docs"], settings, progress=False)
    store = PassageStore(settings)
    (document,) = store.documents()
    assert document.name == "docs/sub/castle.txt" and document.path == str(castle)
    assert {p.source for p in store.all_passages()} == {"docs/sub/castle.txt"}
    assert len(store.all_passages()) == document.passages
    again = ingest([tmp_path / "docs"], settings, progress=False)
    assert again.files_unchanged == 1 and again.passages_embedded == 0
